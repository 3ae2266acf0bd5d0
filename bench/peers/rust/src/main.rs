//! The Rust peer of kwire's decode cases: the `kafka-protocol` crate decodes
//! each frame that kwire-bench --export-frames wrote (size prefix and header
//! included) and walks what kwire's walk visits; records fields go through
//! `RecordBatchDecoder::decode_all`, which checks every batch's CRC-32C and
//! parses every record and header. One JSON line per frame: counts
//! (`--mode count`) or ns per frame and bytes per second (`--mode bench`).
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use kafka_protocol::messages::{
    ApiVersionsResponse, FetchRequest, FetchResponse, MetadataResponse, OffsetCommitRequest,
    ProduceRequest, RequestHeader, ResponseHeader,
};
use kafka_protocol::protocol::{Decodable, HeaderVersion};
use kafka_protocol::records::RecordBatchDecoder;
use serde_json::Value;

type Counts = BTreeMap<&'static str, i64>;
type Res<T> = Result<T, String>;

struct Frame {
    name: String,
    api_key: i16,
    version: i16,
    response: bool,
    bytes: Bytes,
}

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Every batch (CRC-32C checked), record and header of a records field.
fn records(b: &Option<Bytes>, c: &mut Counts, sum: &mut u64) -> Res<()> {
    let Some(b) = b else { return Ok(()) };
    let mut buf = b.clone();
    for set in RecordBatchDecoder::decode_all(&mut buf).map_err(err)? {
        *c.entry("batches").or_default() += 1;
        for r in &set.records {
            *c.entry("records").or_default() += 1;
            *sum += (r.key.as_ref().map_or(0, |k| k.len()) + r.value.as_ref().map_or(0, |v| v.len()))
                as u64;
            for (k, v) in &r.headers {
                *c.entry("headers").or_default() += 1;
                *sum += (k.len() + v.as_ref().map_or(0, |v| v.len())) as u64;
            }
        }
    }
    Ok(())
}

fn request_body<M: Decodable + HeaderVersion>(f: &Frame, buf: &mut Bytes) -> Res<M> {
    let h = RequestHeader::decode(buf, M::header_version(f.version)).map_err(err)?;
    if h.request_api_key != f.api_key || h.request_api_version != f.version {
        return Err("header key or version".into());
    }
    let m = M::decode(buf, f.version).map_err(err)?;
    if buf.has_remaining() {
        return Err("bytes after the body".into());
    }
    Ok(m)
}

fn response_body<M: Decodable + HeaderVersion>(f: &Frame, buf: &mut Bytes) -> Res<M> {
    ResponseHeader::decode(buf, M::header_version(f.version)).map_err(err)?;
    let m = M::decode(buf, f.version).map_err(err)?;
    if buf.has_remaining() {
        return Err("bytes after the body".into());
    }
    Ok(m)
}

fn decode(f: &Frame, sum: &mut u64) -> Res<Counts> {
    let mut buf = f.bytes.clone();
    if buf.len() < 4 || buf.get_u32() as usize != buf.len() {
        return Err("size prefix".into());
    }
    let mut c = Counts::new();
    let add = |c: &mut Counts, k: &'static str| *c.entry(k).or_default() += 1;
    match (f.api_key, f.response) {
        (0, false) => {
            let m: ProduceRequest = request_body(f, &mut buf)?;
            for t in &m.topic_data {
                add(&mut c, "topics");
                *sum += t.name.len() as u64;
                for p in &t.partition_data {
                    add(&mut c, "partitions");
                    *sum += p.index as u64;
                    records(&p.records, &mut c, sum)?;
                }
            }
        }
        (1, false) => {
            let m: FetchRequest = request_body(f, &mut buf)?;
            for t in &m.topics {
                add(&mut c, "topics");
                *sum += t.topic.len() as u64 + t.topic_id.as_bytes()[0] as u64;
                for p in &t.partitions {
                    add(&mut c, "partitions");
                    *sum += p.fetch_offset as u64 + p.partition_max_bytes as u64;
                }
            }
            for t in &m.forgotten_topics_data {
                *sum += t.topic.len() as u64;
            }
        }
        (8, false) => {
            let m: OffsetCommitRequest = request_body(f, &mut buf)?;
            *sum += (m.group_id.len() + m.member_id.len()) as u64
                + m.generation_id_or_member_epoch as u64;
            for t in &m.topics {
                add(&mut c, "topics");
                *sum += t.name.len() as u64;
                for p in &t.partitions {
                    add(&mut c, "partitions");
                    *sum += p.partition_index as u64
                        + p.committed_offset as u64
                        + p.committed_leader_epoch as u64
                        + p.committed_metadata.as_ref().map_or(0, |s| s.len()) as u64;
                }
            }
        }
        (1, true) => {
            let m: FetchResponse = response_body(f, &mut buf)?;
            for k in ["batches", "records", "headers"] {
                c.insert(k, 0);
            }
            for t in &m.responses {
                add(&mut c, "topics");
                *sum += t.topic.len() as u64;
                for p in &t.partitions {
                    add(&mut c, "partitions");
                    *sum += p.high_watermark as u64;
                    for a in p.aborted_transactions.iter().flatten() {
                        *sum += a.first_offset as u64;
                    }
                    records(&p.records, &mut c, sum)?;
                }
            }
        }
        (3, true) => {
            let m: MetadataResponse = response_body(f, &mut buf)?;
            for b in &m.brokers {
                *sum += b.host.len() as u64 + b.port as u64;
            }
            for t in &m.topics {
                add(&mut c, "topics");
                *sum += t.name.as_ref().map_or(0, |n| n.len()) as u64;
                for p in &t.partitions {
                    add(&mut c, "partitions");
                    *sum += p.leader_id.0 as u64;
                    for l in [&p.replica_nodes, &p.isr_nodes, &p.offline_replicas] {
                        for n in l {
                            *sum += n.0 as u64;
                        }
                    }
                }
            }
        }
        (18, true) => {
            let m: ApiVersionsResponse = response_body(f, &mut buf)?;
            for k in &m.api_keys {
                add(&mut c, "api_keys");
                *sum += (k.api_key + k.max_version) as u64;
            }
            for s in &m.supported_features {
                *sum += s.name.len() as u64;
            }
            for s in &m.finalized_features {
                *sum += s.name.len() as u64;
            }
        }
        _ => return Err("no walk for this message".into()),
    }
    Ok(c)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
            .unwrap_or_else(|| default.to_string())
    };
    let dir = arg("--dir", ".");
    let mode = arg("--mode", "bench");
    let seconds: f64 = arg("--seconds", "0.5").parse().expect("--seconds");
    let index = std::fs::read_to_string(format!("{dir}/frames.jsonl")).expect("frames.jsonl");
    let mut failed = false;
    for line in index.lines() {
        let v: Value = serde_json::from_str(line).expect("frames.jsonl line");
        let file = v["file"].as_str().unwrap();
        let f = Frame {
            name: v["name"].as_str().unwrap().to_string(),
            api_key: v["api_key"].as_i64().unwrap() as i16,
            version: v["version"].as_i64().unwrap() as i16,
            response: v["response"].as_bool().unwrap(),
            bytes: Bytes::from(std::fs::read(format!("{dir}/{file}")).expect("frame file")),
        };
        let mut sum = 0u64;
        let counts = match decode(&f, &mut sum) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("kwire-peer-rust: {}: {e}", f.name);
                failed = true;
                continue;
            }
        };
        let mut out = serde_json::json!({"peer": "kafka-protocol", "frame": f.name, "counts": counts});
        if mode == "bench" {
            let budget = Duration::from_secs_f64(seconds);
            let run = |sum: &mut u64| {
                let start = Instant::now();
                let mut n = 0u64;
                while n == 0 || start.elapsed() < budget {
                    for _ in 0..16 {
                        decode(&f, sum).expect("decode");
                    }
                    n += 16;
                }
                (n, start.elapsed())
            };
            run(&mut sum); // warm-up
            let (n, took) = run(&mut sum);
            let ns = took.as_nanos() as f64 / n as f64;
            out["iters"] = n.into();
            out["ns_per_frame"] = ns.into();
            out["bytes_per_s"] = (f.bytes.len() as f64 / ns * 1e9).into();
        }
        out["checksum"] = sum.into();
        println!("{out}");
    }
    if failed {
        std::process::exit(1);
    }
}
