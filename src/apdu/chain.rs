//! Command chaining (ISO 7816-4 §5.3.3): data longer than a short APDU's 255
//! bytes goes in several commands, all but the last with CLA bit `10` set.

use super::{transmit, ApduError, Command, Exchange, Response, StatusWord};

/// Most data bytes in one short command.
const MAX_LC: usize = 255;

/// Sends `cmd` with its data in chunks of 255 bytes; each chunk but the last
/// goes without Le and must answer `90 00` (any other answer is returned as
/// is). The last goes with `cmd`'s CLA and Le, through T=0 rules. A command
/// with at most 255 data bytes is sent as it is. The class must be an
/// interindustry one (the chaining bit means nothing in a proprietary class).
pub fn transmit_chained(ex: &mut dyn Exchange, cmd: &Command) -> Result<Response, ApduError> {
    if cmd.cla & 0x80 != 0 {
        return Err(ApduError::Malformed(format!(
            "{cmd:?}: no chaining in a proprietary class"
        )));
    }
    let mut chunks = cmd.data.chunks(MAX_LC).peekable();
    while let Some(chunk) = chunks.next() {
        if chunks.peek().is_none() {
            return transmit(
                ex,
                &Command {
                    data: chunk.to_vec(),
                    ..cmd.clone()
                },
            );
        }
        let part = Command::new(cmd.cla | 0x10, cmd.ins, cmd.p1, cmd.p2).data(chunk);
        let resp = transmit(ex, &part)?;
        if resp.sw != StatusWord::Ok {
            return Ok(resp);
        }
    }
    // No data at all.
    transmit(ex, cmd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::replay::Replay;

    #[test]
    fn splits_256_bytes_in_255_and_1() {
        let data: Vec<u8> = (0..=255u8).collect();
        let first = format!("112A8086FF{}", hex::encode_upper(&data[..255]));
        let mut r = Replay::new([
            (first.as_str(), "9000"),
            ("012A808601FF", "6100"),
            ("01C0000000", &format!("{}9000", "AB".repeat(256))),
        ]);
        let cmd = Command::new(0x01, 0x2A, 0x80, 0x86).data(data.clone()).le(256);
        let resp = transmit_chained(&mut r, &cmd).unwrap();
        assert_eq!((resp.data.len(), resp.sw), (256, StatusWord::Ok));
        r.finish();
        // A refused first chunk ends it.
        let mut r = Replay::new([(first.as_str(), "6985")]);
        let resp = transmit_chained(&mut r, &cmd).unwrap();
        assert_eq!(resp.sw.to_u16(), 0x6985);
        r.finish();
        // Short data: one plain command.
        let mut r = Replay::new([("002A808602 0102", "9000")]);
        transmit_chained(&mut r, &Command::new(0, 0x2A, 0x80, 0x86).data([1, 2])).unwrap();
        r.finish();
        assert!(transmit_chained(&mut r, &Command::new(0x80, 0x2A, 0x80, 0x86).data(data)).is_err());
    }
}
