//! Shared by the `sync` and `load` benchmarks: a waypoint-server on 127.0.0.1 in this process,
//! and a loopback proxy that counts the bytes on the wire and can cut the stream once at a
//! given byte offset (to measure what resuming costs).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use waypoint_server::store::SharedStore;
use waypoint_server::Settings;

/// A server on 127.0.0.1 (plain HTTP) until dropped.
pub struct LocalServer {
    pub addr: SocketAddr,
    handle: axum_server::Handle,
}

impl LocalServer {
    pub fn start(runtime: &tokio::runtime::Runtime, store: SharedStore) -> Result<Self, String> {
        Self::start_with(runtime, store, Settings::default())
    }

    pub fn start_with(
        runtime: &tokio::runtime::Runtime,
        store: SharedStore,
        settings: Settings,
    ) -> Result<Self, String> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let handle = axum_server::Handle::new();
        let app = waypoint_server::app(store, settings);
        runtime.spawn(waypoint_server::serve(listener, app, None, handle.clone()));
        Ok(LocalServer { addr, handle })
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

/// Which direction a cut applies to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

pub struct CountingProxy {
    pub addr: SocketAddr,
    pub up: Arc<AtomicU64>,
    pub down: Arc<AtomicU64>,
    /// (direction, byte offset): the connection carrying that byte is cut, once.
    cut: Arc<std::sync::Mutex<Option<(Direction, u64)>>>,
    pub cut_done: Arc<AtomicBool>,
}

impl CountingProxy {
    pub fn start(runtime: &tokio::runtime::Runtime, upstream: SocketAddr) -> Result<Self, String> {
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).map_err(|e| e.to_string())?;
        let proxy = CountingProxy {
            addr: listener.local_addr().map_err(|e| e.to_string())?,
            up: Arc::default(),
            down: Arc::default(),
            cut: Arc::default(),
            cut_done: Arc::default(),
        };
        let (up, down, cut, cut_done) =
            (proxy.up.clone(), proxy.down.clone(), proxy.cut.clone(), proxy.cut_done.clone());
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else { continue };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (up, down, cut, cut_done) = (up.clone(), down.clone(), cut.clone(), cut_done.clone());
                tokio::spawn(async move {
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    let up_copy = pump(client_read, server_write, up, Direction::Up, cut.clone(), cut_done.clone());
                    let down_copy = pump(server_read, client_write, down, Direction::Down, cut, cut_done);
                    tokio::pin!(up_copy, down_copy);
                    tokio::select! {
                        cut = &mut up_copy => if !cut { (&mut down_copy).await; },
                        cut = &mut down_copy => if !cut { (&mut up_copy).await; },
                    }
                });
            }
        });
        Ok(proxy)
    }

    /// Cuts the connection that carries byte `offset` (counted from now) in `direction`.
    pub fn cut_once_at(&self, direction: Direction, offset: u64) {
        self.cut_done.store(false, Ordering::SeqCst);
        *self.cut.lock().unwrap() = Some((direction, offset));
    }

    pub fn bytes(&self) -> (u64, u64) {
        (self.up.load(Ordering::SeqCst), self.down.load(Ordering::SeqCst))
    }
}

/// Copies and counts; returns true when it cut the connection.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    counter: Arc<AtomicU64>,
    direction: Direction,
    cut: Arc<std::sync::Mutex<Option<(Direction, u64)>>>,
    cut_done: Arc<AtomicBool>,
) -> bool {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => {
                let _ = to.shutdown().await;
                return false;
            }
            Ok(n) => n,
        };
        let before = counter.load(Ordering::SeqCst);
        let limit = {
            let mut plan = cut.lock().unwrap();
            match *plan {
                Some((d, at)) if d == direction && before + n as u64 >= at => {
                    *plan = None;
                    Some((at.saturating_sub(before)) as usize)
                }
                _ => None,
            }
        };
        let allowed = limit.unwrap_or(n);
        counter.fetch_add(allowed as u64, Ordering::SeqCst);
        if to.write_all(&buffer[..allowed]).await.is_err() {
            return true;
        }
        if limit.is_some() {
            cut_done.store(true, Ordering::SeqCst);
            return true;
        }
    }
}
