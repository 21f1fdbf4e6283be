//! Quick-ACK on Linux (see `quick_ack` in the parent).

use std::net::TcpStream;

pub(super) fn quick_ack(stream: &TcpStream) {
    let _ = rustix::net::sockopt::set_tcp_quickack(stream, true);
}
