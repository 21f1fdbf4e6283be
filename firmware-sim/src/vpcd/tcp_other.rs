//! No TCP_QUICKACK outside Linux: each APDU may wait for the peer's delayed
//! ACK (tens of milliseconds on Windows); correct, only slower.

use std::net::TcpStream;

pub(super) fn quick_ack(_stream: &TcpStream) {}
