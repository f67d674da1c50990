//! The Prometheus remote-write protocol (1.0), read by hand: a request body
//! is a snappy-compressed (block format) protobuf `WriteRequest`. Both are
//! small enough to decode here, so a test can hold what a real Prometheus
//! sends without a store or a new crate.

use std::collections::BTreeMap;

/// One series of a `WriteRequest`: its labels and (timestamp ms, value)
/// samples.
#[derive(Debug, Clone)]
pub struct WrittenSeries {
    pub labels: BTreeMap<String, String>,
    pub samples: Vec<(i64, f64)>,
}

/// A remote-write body's series, or why it cannot be read.
pub fn decode_write_request(body: &[u8]) -> Result<Vec<WrittenSeries>, String> {
    let proto = snappy_decompress(body)?;
    let mut series = Vec::new();
    for (field, value) in fields(&proto)? {
        if let (1, Value::Bytes(ts)) = (field, value) {
            series.push(time_series(ts)?);
        }
    }
    Ok(series)
}

fn time_series(bytes: &[u8]) -> Result<WrittenSeries, String> {
    let mut out = WrittenSeries {
        labels: BTreeMap::new(),
        samples: Vec::new(),
    };
    for (field, value) in fields(bytes)? {
        match (field, value) {
            (1, Value::Bytes(label)) => {
                let (mut name, mut value) = (String::new(), String::new());
                for (f, v) in fields(label)? {
                    let text = match v {
                        Value::Bytes(b) => {
                            String::from_utf8(b.to_vec()).map_err(|e| e.to_string())?
                        }
                        _ => return Err("a label field is not a string".into()),
                    };
                    match f {
                        1 => name = text,
                        2 => value = text,
                        _ => {}
                    }
                }
                out.labels.insert(name, value);
            }
            (2, Value::Bytes(sample)) => {
                let (mut v, mut t) = (0.0, 0);
                for (f, x) in fields(sample)? {
                    match (f, x) {
                        (1, Value::Fixed64(bits)) => v = f64::from_bits(bits),
                        (2, Value::Varint(n)) => t = n as i64,
                        _ => {}
                    }
                }
                out.samples.push((t, v));
            }
            _ => {}
        }
    }
    Ok(out)
}

enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32,
}

/// Every (field number, value) of one protobuf message.
fn fields(mut bytes: &[u8]) -> Result<Vec<(u64, Value<'_>)>, String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let key = varint(&mut bytes)?;
        let value = match key & 7 {
            0 => Value::Varint(varint(&mut bytes)?),
            1 => Value::Fixed64(u64::from_le_bytes(
                take(&mut bytes, 8)?
                    .try_into()
                    .map_err(|_| "a short fixed64".to_string())?,
            )),
            2 => {
                let len = usize::try_from(varint(&mut bytes)?).map_err(|e| e.to_string())?;
                Value::Bytes(take(&mut bytes, len)?)
            }
            5 => {
                take(&mut bytes, 4)?;
                Value::Fixed32
            }
            wire => return Err(format!("wire type {wire} is not in remote write")),
        };
        out.push((key >> 3, value));
    }
    Ok(out)
}

fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if bytes.len() < n {
        return Err(format!("{n} bytes wanted, {} left", bytes.len()));
    }
    let (head, tail) = bytes.split_at(n);
    *bytes = tail;
    Ok(head)
}

fn varint(bytes: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = take(bytes, 1)?[0];
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("a varint longer than 64 bits".into())
}

/// Snappy's block format: the uncompressed length, then literals and
/// back-references (copies) with 1-, 2- or 4-byte offsets.
pub fn snappy_decompress(mut input: &[u8]) -> Result<Vec<u8>, String> {
    let len = usize::try_from(varint(&mut input)?).map_err(|e| e.to_string())?;
    let mut out: Vec<u8> = Vec::with_capacity(len);
    while !input.is_empty() {
        let tag = take(&mut input, 1)?[0];
        let (length, offset) = match tag & 3 {
            0 => {
                let mut n = usize::from(tag >> 2);
                if n >= 60 {
                    let extra = take(&mut input, n - 59)?;
                    n = extra
                        .iter()
                        .rev()
                        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
                }
                out.extend_from_slice(take(&mut input, n + 1)?);
                continue;
            }
            1 => {
                let low = take(&mut input, 1)?[0];
                (
                    4 + usize::from((tag >> 2) & 7),
                    (usize::from(tag >> 5) << 8) | usize::from(low),
                )
            }
            2 => {
                let b = take(&mut input, 2)?;
                (
                    1 + usize::from(tag >> 2),
                    usize::from(u16::from_le_bytes([b[0], b[1]])),
                )
            }
            _ => {
                let b = take(&mut input, 4)?;
                (
                    1 + usize::from(tag >> 2),
                    usize::try_from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .map_err(|e| e.to_string())?,
                )
            }
        };
        if offset == 0 || offset > out.len() {
            return Err(format!("copy offset {offset} outside {} bytes", out.len()));
        }
        // Byte by byte: a copy may overlap what it writes.
        for _ in 0..length {
            out.push(out[out.len() - offset]);
        }
    }
    if out.len() != len {
        return Err(format!("{} bytes decoded, {len} announced", out.len()));
    }
    Ok(out)
}

#[test]
fn snappy_literals_and_overlapping_copies_decode() {
    // "abcabcabcabc": a 3-byte literal, then a 9-byte copy at offset 3
    // (1-byte offset form: length 9 = 4 + 5).
    let block = [12, 0b0000_1000, b'a', b'b', b'c', (5 << 2) | 1, 3];
    assert_eq!(snappy_decompress(&block).unwrap(), b"abcabcabcabc");
    assert!(snappy_decompress(&[4, (1 << 2) | 1, 9]).is_err());
}
