//! zstd decoding with a ceiling: a few kilobytes of zstd can unpack to gigabytes, so what a
//! server sends (a sync reply, the directory snapshot) is unpacked up to a size limit, past
//! which it is refused with an error that says so, before memory runs out.

use std::io::Read;

/// The unpacked bytes of `compressed`, or an error when they would pass `limit` bytes or are
/// not zstd. `what` names the data in the error ("the directory snapshot").
pub fn decode(compressed: &[u8], limit: u64, what: &str) -> Result<Vec<u8>, String> {
    let decoder = zstd::stream::read::Decoder::new(compressed).map_err(|e| format!("{what} is not zstd: {e}"))?;
    let mut out = Vec::new();
    decoder.take(limit + 1).read_to_end(&mut out).map_err(|e| format!("{what} is not zstd: {e}"))?;
    if out.len() as u64 > limit {
        return Err(format!("{what} unpacks to more than {} MiB, the most this device accepts: refused", limit >> 20));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacks_within_the_limit_and_refuses_past_it() {
        let text = vec![b'a'; 4 << 20];
        let packed = zstd::encode_all(&text[..], 3).unwrap();
        assert!(packed.len() < 4096, "a zstd bomb in miniature: {} bytes", packed.len());
        assert_eq!(decode(&packed, 4 << 20, "the reply").unwrap(), text);
        let refused = decode(&packed, 1 << 20, "the reply").unwrap_err();
        assert!(refused.contains("more than 1 MiB") && refused.contains("refused"), "{refused}");
        assert!(decode(b"not zstd at all", 1 << 20, "the reply").unwrap_err().contains("not zstd"));
    }
}
