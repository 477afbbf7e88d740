//! `GET /v1/directory/snapshot` and the core's resumable `download_directory_snapshot`: a full
//! download, a download cut half-way and resumed (only the remaining bytes travel), a snapshot
//! replaced between attempts (If-Range no longer matches: restart from byte 0), 304 on
//! If-None-Match, 404 before any import, and the cursor that makes the device pull only changes
//! after the snapshot (on both stores, since the cursor comes from the store's feed).

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use common::*;
use serde_json::{json, Value};
use waypoint_core::sync::http::{download_directory_snapshot, HttpConfig, SnapshotInfo};
use waypoint_core::sync::TransportError;
use waypoint_protocol::{ChangeKind, Role};
use waypoint_server::directory_feed;
use waypoint_server::snapshot::{self, Manifest};
use waypoint_server::Settings;

on_both_stores!(a_fresh_device_downloads_the_snapshot_then_pulls_only_later_changes);

/// `count` HSDS-like services whose text does not compress away, so the file has some size.
fn services(count: usize, tag: &str) -> Vec<Value> {
    (0..count)
        .map(|i| {
            let noise: String =
                (0..6).map(|k| format!("{:x}", sha2_like(i as u64 * 31 + k + tag.len() as u64))).collect();
            json!({"id": format!("svc-{i:05}"), "name": format!("{tag} crisis service {i}"), "description": noise})
        })
        .collect()
}

/// A cheap deterministic mixer (splitmix64), for text zstd cannot squeeze to nothing.
fn sha2_like(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

struct Setup {
    t: TestStore,
    server: TestServer,
    snapshot_dir: tempfile::TempDir,
    device_token: String,
    device_id: String,
}

async fn setup(backend: Backend) -> Setup {
    let t = TestStore::new(backend).await;
    let snapshot_dir = tempfile::tempdir().unwrap();
    let settings = Settings { directory_snapshot_dir: Some(snapshot_dir.path().to_path_buf()), ..Settings::default() };
    let server = TestServer::start(t.store.clone(), settings).await;
    let (device_id, device_token) = enroll_device(&t.store).await;
    Setup { t, server, snapshot_dir, device_token, device_id }
}

impl Setup {
    async fn import(&self, services: Vec<Value>) -> Manifest {
        let (_, manifest) =
            directory_feed::publish_with_snapshot(&self.t.store, self.snapshot_dir.path(), services).await.unwrap();
        manifest
    }

    fn config(&self, base: &str) -> HttpConfig {
        let mut config = HttpConfig::new(base);
        config.reuse_connections = false;
        config
    }
}

/// The blocking client, off the async workers.
async fn download(config: HttpConfig, token: String, dest: PathBuf) -> Result<SnapshotInfo, TransportError> {
    tokio::task::spawn_blocking(move || download_directory_snapshot(&config, &token, &dest)).await.unwrap()
}

fn read_snapshot(path: &Path) -> Vec<Value> {
    snapshot::decode(&std::fs::read(path).unwrap()).unwrap()
}

fn part_of(dest: &Path) -> PathBuf {
    PathBuf::from(format!("{}.part", dest.display()))
}

/// A loopback TCP proxy in front of the server that counts the reply bytes it relays and, when
/// `cut_after` is set, closes the connection after relaying that many reply bytes.
struct Proxy {
    addr: std::net::SocketAddr,
    reply_bytes: Arc<AtomicU64>,
}

impl Proxy {
    fn start(upstream: std::net::SocketAddr, cut_after: Option<u64>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let reply_bytes = Arc::new(AtomicU64::new(0));
        let counter = reply_bytes.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let counter = counter.clone();
                std::thread::spawn(move || relay(client, upstream, cut_after, &counter));
            }
        });
        Proxy { addr, reply_bytes }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn reply_bytes(&self) -> u64 {
        self.reply_bytes.load(Ordering::SeqCst)
    }
}

fn relay(mut client: TcpStream, upstream: std::net::SocketAddr, cut_after: Option<u64>, counter: &AtomicU64) {
    let Ok(mut server) = TcpStream::connect(upstream) else { return };
    let (mut client_in, mut server_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_in, &mut server_out);
        let _ = server_out.shutdown(Shutdown::Write);
    });
    let mut relayed = 0u64;
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let n = match server.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let n = match cut_after {
            Some(limit) => n.min((limit - relayed) as usize),
            None => n,
        };
        if client.write_all(&buffer[..n]).is_err() {
            break;
        }
        relayed += n as u64;
        counter.fetch_add(n as u64, Ordering::SeqCst);
        if cut_after.is_some_and(|limit| relayed >= limit) {
            break;
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
}

async fn a_fresh_device_downloads_the_snapshot_then_pulls_only_later_changes(backend: Backend) {
    let s = setup(backend).await;
    let first = services(500, "first");
    let manifest = s.import(first.clone()).await;
    assert_eq!(manifest.services, 500);
    assert!(manifest.cursor >= 500, "the cursor is the feed position of the last published change");

    let dest = tempfile::tempdir().unwrap();
    let file = dest.path().join("directory.jsonl.zst");
    let info = download(s.config(&s.server.url("")), s.device_token.clone(), file.clone()).await.unwrap();
    assert_eq!(info.cursor, manifest.cursor);
    assert_eq!(info.bytes, manifest.bytes);
    assert_eq!((info.resumed_from, info.bytes_downloaded), (0, manifest.bytes));
    assert_eq!(info.etag, manifest.etag());
    assert_eq!(read_snapshot(&file), first, "the snapshot holds every service, as exported");
    assert!(!part_of(&file).exists(), "the partial file was renamed into place");
    assert!(!PathBuf::from(format!("{}.part.etag", file.display())).exists());

    // Changes published after the snapshot are all the device pulls from its cursor.
    let mut next = first.clone();
    next[7]["name"] = json!("renamed after the snapshot");
    next.pop();
    s.import(next).await;
    let page = s.t.store.pull(&s.device_id, info.cursor, 1 << 20).await.unwrap();
    let feed: Vec<(ChangeKind, String)> = page.changes.iter().map(|c| (c.kind, c.key.clone())).collect();
    assert_eq!(
        feed,
        vec![(ChangeKind::DirectoryUpsert, "svc-00007".into()), (ChangeKind::DirectoryDelete, "svc-00499".into())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_download_resumes_with_only_the_remaining_bytes() {
    let s = setup(Backend::Sqlite).await;
    let manifest = s.import(services(3000, "cut")).await;
    let size = manifest.bytes;
    assert!(size > 100_000, "a snapshot worth resuming: {size} bytes");
    let dest = tempfile::tempdir().unwrap();
    let file = dest.path().join("directory.jsonl.zst");

    // First attempt: the connection dies half-way through the body.
    let cutter = Proxy::start(s.server.addr, Some(size / 2));
    let cut = download(s.config(&cutter.url()), s.device_token.clone(), file.clone()).await;
    assert!(matches!(cut, Err(TransportError::Unreachable(_))), "{cut:?}");
    let held = std::fs::metadata(part_of(&file)).unwrap().len();
    assert!(held > size / 3 && held < size, "kept {held} of {size} bytes");
    assert!(!file.exists());

    // Second attempt: only the rest travels.
    let counter = Proxy::start(s.server.addr, None);
    let info = download(s.config(&counter.url()), s.device_token.clone(), file.clone()).await.unwrap();
    assert_eq!((info.resumed_from, info.bytes_downloaded), (held, size - held));
    let wire = counter.reply_bytes();
    assert!(wire >= size - held && wire < size - held + 1024, "{wire} bytes on the wire for {} missing", size - held);
    assert_eq!(std::fs::read(&file).unwrap().len() as u64, size);
    assert_eq!(read_snapshot(&file).len(), 3000);
    eprintln!(
        "snapshot {size} B: cut after {held} B; resume moved {wire} B on the wire ({} B body + {} B headers); \
         total {} B = {:.2} % over one clean download",
        size - held,
        wire - (size - held),
        cutter.reply_bytes() + wire,
        100.0 * (cutter.reply_bytes() + wire) as f64 / size as f64 - 100.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_replaced_between_attempts_restarts_from_zero() {
    let s = setup(Backend::Sqlite).await;
    let old = s.import(services(2000, "old")).await;
    let dest = tempfile::tempdir().unwrap();
    let file = dest.path().join("directory.jsonl.zst");
    let cutter = Proxy::start(s.server.addr, Some(old.bytes / 2));
    assert!(download(s.config(&cutter.url()), s.device_token.clone(), file.clone()).await.is_err());
    assert!(part_of(&file).exists());

    let replacement = services(2100, "new");
    let new = s.import(replacement.clone()).await;
    assert_ne!(new.sha256, old.sha256);
    let counter = Proxy::start(s.server.addr, None);
    let info = download(s.config(&counter.url()), s.device_token.clone(), file.clone()).await.unwrap();
    assert_eq!(info.resumed_from, 0, "If-Range did not match: the whole new snapshot came");
    assert_eq!(info.bytes_downloaded, new.bytes);
    assert_eq!(info.etag, new.etag());
    assert_eq!(info.cursor, new.cursor);
    assert!(counter.reply_bytes() >= new.bytes);
    assert_eq!(read_snapshot(&file), replacement, "nothing of the old snapshot was spliced in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_and_range_requests_follow_http() {
    let s = setup(Backend::Sqlite).await;
    let client = http_client();
    let get = |headers: &[(&str, &str)]| {
        let mut request = client
            .get(s.server.url("/v1/directory/snapshot"))
            .bearer_auth(&s.device_token)
            .header("Accept-Encoding", "identity");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };

    // Before any import: 404, in the error shape.
    let reply = get(&[]).await.unwrap();
    assert_eq!(reply.status(), 404);
    assert_eq!(reply.json::<waypoint_protocol::ErrorBody>().await.unwrap().error, "not_found");

    let manifest = s.import(services(300, "http")).await;
    let (etag, size) = (manifest.etag(), manifest.bytes);
    let whole = get(&[]).await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["etag"], etag.as_str());
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.headers()["x-waypoint-cursor"], manifest.cursor.to_string().as_str());
    assert_eq!(whole.headers()["content-type"], "application/zstd");
    let body = whole.bytes().await.unwrap();
    assert_eq!(body.len() as u64, size);

    // If-None-Match: 304 with no body, for the strong tag, its weak form, a list, or *.
    for value in [etag.clone(), format!("W/{etag}"), format!("\"other\", {etag}"), "*".into()] {
        let reply = get(&[("If-None-Match", &value)]).await.unwrap();
        assert_eq!(reply.status(), 304, "If-None-Match: {value}");
        assert_eq!(reply.headers()["etag"], etag.as_str());
        assert!(reply.bytes().await.unwrap().is_empty());
    }
    assert_eq!(get(&[("If-None-Match", "\"something else\"")]).await.unwrap().status(), 200);

    // Range: the tail from byte 100, exact bytes.
    let reply = get(&[("Range", "bytes=100-")]).await.unwrap();
    assert_eq!(reply.status(), 206);
    assert_eq!(reply.headers()["content-range"], format!("bytes 100-{}/{size}", size - 1).as_str());
    assert_eq!(reply.bytes().await.unwrap(), body.slice(100..));
    let reply = get(&[("Range", "bytes=10-19"), ("If-Range", &etag)]).await.unwrap();
    assert_eq!(reply.status(), 206);
    assert_eq!(reply.bytes().await.unwrap(), body.slice(10..20));
    // A stale or weak If-Range, or a date: the whole file, 200.
    for stale in ["\"0000\"", &format!("W/{etag}"), "Wed, 21 Oct 2015 07:28:00 GMT"] {
        let reply = get(&[("Range", "bytes=100-"), ("If-Range", stale)]).await.unwrap();
        assert_eq!(reply.status(), 200, "If-Range: {stale}");
        assert_eq!(reply.bytes().await.unwrap().len() as u64, size);
    }
    // Past the end: 416 with the size; unreadable or multiple ranges are ignored (200).
    let reply = get(&[("Range", &format!("bytes={size}-"))]).await.unwrap();
    assert_eq!(reply.status(), 416);
    assert_eq!(reply.headers()["content-range"], format!("bytes */{size}").as_str());
    assert_eq!(get(&[("Range", "bytes=0-1,5-9")]).await.unwrap().status(), 200);
    assert_eq!(get(&[("Range", "pages=1-")]).await.unwrap().status(), 200);

    // Compression never wraps the file, even when the client would accept zstd.
    let reply = client
        .get(s.server.url("/v1/directory/snapshot"))
        .bearer_auth(&s.device_token)
        .header("Accept-Encoding", "zstd, gzip")
        .send()
        .await
        .unwrap();
    assert!(reply.headers().get("content-encoding").is_none());

    // Device credentials only.
    assert_eq!(client.get(s.server.url("/v1/directory/snapshot")).send().await.unwrap().status(), 401);
    add_user(&s.t.store, "sgt.reyes", Role::Supervisor, "a long passphrase").await;
    let session = login(&client, &s.server, "sgt.reyes", "a long passphrase").await;
    let reply = client.get(s.server.url("/v1/directory/snapshot")).bearer_auth(session).send().await.unwrap();
    assert_eq!(reply.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_reports_a_missing_snapshot_and_leaves_nothing_behind() {
    let s = setup(Backend::Sqlite).await;
    let dest = tempfile::tempdir().unwrap();
    let file = dest.path().join("directory.jsonl.zst");
    let error = download(s.config(&s.server.url("")), s.device_token.clone(), file.clone()).await.unwrap_err();
    assert!(matches!(&error, TransportError::Server(m) if m.contains("404")), "{error:?}");
    assert!(!file.exists() && !part_of(&file).exists());
    let error = download(s.config(&s.server.url("")), "wpd_not_a_token".into(), file.clone()).await.unwrap_err();
    assert!(matches!(error, TransportError::Unauthorized(_)), "{error:?}");
}
