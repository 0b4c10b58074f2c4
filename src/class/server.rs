//! The class server: the browser app's files and one WebSocket, on the
//! room's network (`docs/CLASS-CONTRACT.md`). [`start`] runs it on its own
//! thread with its own tokio runtime, for `backprop-viz class` and for the
//! desktop app's *File → Start a class* alike; [`RunningClass::stop`] (or
//! dropping it) stops accepting, writes what is queued, and closes.
//!
//! Each WebSocket is one task that reads the client's messages and writes
//! what the class sends it (its queue is filled by [`Hub`] under one lock).
//! A message that changes the class is queued to the store's writer in the
//! same critical section that records it in memory, so the database sees
//! changes in the order the server decided them; what follows from a change
//! (the `ack`, the broadcast) is sent only once it is committed.

use std::future::IntoFuture;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rand::{RngCore, SeedableRng};
use serde::Serialize;
use tokio::sync::{mpsc, watch, Notify};

use super::hub::{Change, ConnId, Hub, Plan};
use super::protocol::{
    ClientMsg, ErrorCode, ServerMsg, CLOSE_TOO_BIG, CODE_ALPHABET, CODE_LEN, MAX_MESSAGE, MAX_RATE,
};
use super::site::{default_site, not_found, Site};
use super::store::{ClassRow, Store, StoreError, WriteFailed};

/// Messages waiting to be written to one connection; beyond, it is dropped
/// as not reading.
const OUTBOX: usize = 512;
/// How long one write to a client may take before it is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closing handshake is waited for.
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// The largest message read off the wire at all. A text message over the
/// contract's [`MAX_MESSAGE`] but under this is read whole and answered with
/// a clean close (1009); a larger frame is refused by the WebSocket layer
/// before it is buffered, and the close is best-effort.
const MAX_WIRE_MESSAGE: usize = 4 * MAX_MESSAGE;
/// WebSocket close codes beside the contract's 1009.
const CLOSE_GOING_AWAY: u16 = 1001;
const CLOSE_POLICY: u16 = 1008;

/// How to run a class.
#[derive(Debug, Clone)]
pub struct ClassConfig {
    /// `0.0.0.0` serves the room's network; `127.0.0.1` only this machine.
    pub bind: IpAddr,
    /// `0` picks a free port.
    pub port: u16,
    /// The class's database: created if missing, resumed if it exists.
    pub db: PathBuf,
    /// Kept in the database (for the report) when it is created.
    pub title: String,
    /// The browser app's folder; `None`: [`default_site`].
    pub site: Option<PathBuf>,
}

impl Default for ClassConfig {
    fn default() -> ClassConfig {
        ClassConfig {
            bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 8080,
            db: PathBuf::from("class.sqlite"),
            title: String::new(),
            site: None,
        }
    }
}

/// Where the class is: the contract's JSON line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassInfo {
    pub url: String,
    pub teacher_url: String,
    pub code: String,
    pub ws: String,
    pub db: String,
    /// The teacher's token (also in `teacher_url`), for a teacher client
    /// that joins over `ws`. Not in the JSON line.
    #[serde(skip)]
    pub token: String,
    /// The folder of the browser app served, if one was found.
    #[serde(skip)]
    pub site: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClassError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the site folder {path}: {source}")]
    Site {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("a class title is at most 200 characters, with no control characters")]
    Title,
    #[error("cannot start the class server: {0}")]
    Setup(String),
    /// The database could not be written: the class stopped rather than
    /// acknowledge answers it cannot keep.
    #[error("{0}; the class stopped")]
    Failed(String),
}

/// A class being served. Dropping it stops it as [`RunningClass::stop`].
pub struct RunningClass {
    info: ClassInfo,
    stop: Arc<watch::Sender<bool>>,
    thread: Option<JoinHandle<Result<(), ClassError>>>,
}

impl RunningClass {
    pub fn info(&self) -> &ClassInfo {
        &self.info
    }

    /// False once the server stopped by itself (its database failed);
    /// [`RunningClass::stop`] then says why.
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops accepting, commits every queued answer (sending its ack),
    /// closes each connection (1001) and the database. Blocks until done
    /// (a few seconds at most).
    pub fn stop(mut self) -> Result<(), ClassError> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), ClassError> {
        self.stop.send_replace(true);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(ClassError::Setup("the class server panicked".into())),
            None => Ok(()),
        }
    }
}

impl Drop for RunningClass {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

/// Opens (or resumes) the class in `config.db`, binds, and serves on a
/// thread of its own; returns once it is listening.
pub fn start(config: ClassConfig) -> Result<RunningClass, ClassError> {
    if config.title.chars().count() > 200 || config.title.chars().any(char::is_control) {
        return Err(ClassError::Title);
    }
    let site_dir = match &config.site {
        Some(dir) => Some(dir.clone()),
        None => default_site(),
    };
    let site = Site::new(site_dir.as_deref()).map_err(|source| ClassError::Site {
        path: site_dir
            .as_deref()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
        source,
    })?;
    let mut rng = rand::rngs::StdRng::try_from_os_rng()
        .map_err(|e| ClassError::Setup(format!("no randomness from the system: {e}")))?;
    let fresh = ClassRow {
        code: class_code(&mut rng),
        teacher: token(&mut rng),
        title: config.title.clone(),
        created: 0,
    };
    // Bound first: a port in use is said before the database is touched.
    let addr = SocketAddr::new(config.bind, config.port);
    let listener = TcpListener::bind(addr).map_err(|source| ClassError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .and_then(|a| listener.set_nonblocking(true).map(|()| a))
        .map_err(|source| ClassError::Bind { addr, source })?;
    let (store, loaded) = Store::open(&config.db, fresh)?;
    raise_file_limit();
    let host = match config.bind {
        IpAddr::V4(v4) if v4.is_unspecified() => lan_address(),
        IpAddr::V6(v6) if v6.is_unspecified() => lan_address(),
        ip => ip,
    };
    let hostport = match host {
        IpAddr::V6(v6) => format!("[{v6}]:{}", local.port()),
        IpAddr::V4(v4) => format!("{v4}:{}", local.port()),
    };
    let code = loaded.class.code.clone();
    let teacher = loaded.class.teacher.clone();
    let db = std::path::absolute(&config.db).unwrap_or_else(|_| config.db.clone());
    let info = ClassInfo {
        url: format!("http://{hostport}/#class={code}"),
        teacher_url: format!("http://{hostport}/#class={code}&teacher={teacher}"),
        code,
        ws: format!("ws://{hostport}/ws"),
        db: db.display().to_string(),
        token: teacher,
        site: site.root().map(Path::to_path_buf),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("class-server")
        .enable_all()
        .build()
        .map_err(|e| ClassError::Setup(e.to_string()))?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop = Arc::new(stop_tx);
    let shared = Arc::new(Shared {
        hub: Mutex::new(Hub::new(&loaded)),
        store,
        site: Arc::new(site),
        tally: Notify::new(),
        stop: stop.clone(),
        closing: watch::channel(false).0,
        failure: Mutex::new(None),
        rng: Mutex::new(rng),
        connections: AtomicUsize::new(0),
    });
    let thread = std::thread::Builder::new()
        .name("class-server".into())
        .spawn(move || runtime.block_on(serve(listener, shared, stop_rx)))
        .map_err(|e| ClassError::Setup(e.to_string()))?;
    Ok(RunningClass {
        info,
        stop,
        thread: Some(thread),
    })
}

/// What every task shares.
struct Shared {
    hub: Mutex<Hub>,
    store: Store,
    site: Arc<Site>,
    /// Woken when answers arrive: the tally task sends within 200 ms.
    tally: Notify,
    /// Set to stop the server (by its owner, or by a failed write).
    stop: Arc<watch::Sender<bool>>,
    /// Set once the store is flushed: connections close.
    closing: watch::Sender<bool>,
    failure: Mutex<Option<String>>,
    rng: Mutex<rand::rngs::StdRng>,
    /// WebSocket tasks running; stopping waits for them to close.
    connections: AtomicUsize,
}

impl Shared {
    fn hub(&self) -> MutexGuard<'_, Hub> {
        // A panic elsewhere must not take every student's connection down.
        self.hub.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fail(&self, why: String) {
        let mut failure = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        if failure.is_none() {
            eprintln!("error: {why}");
            *failure = Some(why);
        }
        self.stop.send_replace(true);
    }

    /// One text message from `conn`: the replies to send it now.
    fn handle(self: &Arc<Self>, conn: ConnId, addr: IpAddr, text: &str) -> Vec<ServerMsg> {
        let msg: ClientMsg = match serde_json::from_str(text) {
            Ok(msg) => msg,
            Err(e) => return vec![ServerMsg::error(ErrorCode::BadMessage, bad_json(&e))],
        };
        let mut hub = self.hub();
        if hub.closing {
            return Vec::new();
        }
        let new_token = || {
            let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
            token(&mut rng)
        };
        match hub.plan(conn, addr, msg, new_token, Instant::now()) {
            Plan::Reply(msgs) => {
                if hub.room_waiting() {
                    self.tally.notify_one();
                }
                msgs
            }
            Plan::Write(change) => {
                let Change { op, event } = *change;
                let shared = self.clone();
                let after = event.clone();
                let done = Box::new(move |result: Result<(), WriteFailed>| match result {
                    Ok(()) => {
                        shared.hub().committed(after, Instant::now());
                        shared.tally.notify_one();
                    }
                    Err(e) => shared.fail(format!("{e}")),
                });
                match self.store.submit(op, done) {
                    Ok(()) => {
                        hub.apply(&event);
                        Vec::new()
                    }
                    Err(StoreError::Busy) => vec![ServerMsg::error(
                        ErrorCode::TooMany,
                        "the server is busy: send it again in a moment",
                    )],
                    Err(e) => {
                        drop(hub);
                        self.fail(e.to_string());
                        Vec::new()
                    }
                }
            }
        }
    }
}

/// serde's message for a message that does not parse, without echoing
/// more of the client's text than a line.
fn bad_json(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let short: String = text.chars().take(200).collect();
    format!("not a message of the contract: {short}")
}

async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), ClassError> {
    let listener = tokio::net::TcpListener::from_std(listener)
        .map_err(|e| ClassError::Setup(e.to_string()))?;
    let app = Router::new()
        .route("/ws", get(websocket))
        .fallback(site)
        .with_state(shared.clone());
    let mut stop_http = stop.clone();
    let http = tokio::spawn(
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { until_set(&mut stop_http).await })
        .into_future(),
    );
    let tallies = tokio::spawn(tally_task(shared.clone(), stop.clone()));
    until_set(&mut stop).await;

    // Stop: no new message is read, everything queued is committed (its
    // ack queued), then every connection sends what it has and closes.
    shared.hub().closing = true;
    let flushing = shared.clone();
    let flushed = tokio::task::spawn_blocking(move || flushing.store.flush()).await;
    if let Ok(Err(e)) = flushed {
        shared.fail(e.to_string());
    }
    shared.closing.send_replace(true);
    let _ = tokio::time::timeout(CLOSE_WAIT, http).await;
    let deadline = Instant::now() + CLOSE_WAIT * 2;
    while shared.connections.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tallies.abort();
    let closing = shared.clone();
    let _ = tokio::task::spawn_blocking(move || closing.store.close()).await;
    let failure = shared
        .failure
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    match failure {
        Some(why) => Err(ClassError::Failed(why)),
        None => Ok(()),
    }
}

async fn site(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    shared.site.respond(&method, uri.path(), &headers).await
}

async fn websocket(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // `/ws` is nothing but the WebSocket: a plain GET gets the refusal
    // (426 Upgrade Required and the like), never a page.
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(refused) => return refused.into_response(),
    };
    if *shared.closing.borrow() || shared.hub().closing {
        return not_found();
    }
    upgrade
        .read_buffer_size(MAX_WIRE_MESSAGE)
        .write_buffer_size(0)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(MAX_WIRE_MESSAGE)
        .max_frame_size(MAX_WIRE_MESSAGE)
        .on_upgrade(move |socket| async move {
            shared.connections.fetch_add(1, Ordering::AcqRel);
            let _gone = Gone(shared.clone());
            connection(socket, peer.ip().to_canonical(), shared).await;
        })
        .into_response()
}

/// Until the flag is (or was already) set. The watch's guard stays inside:
/// a future holding it would not be `Send`.
async fn until_set(flag: &mut watch::Receiver<bool>) {
    let _ = flag.wait_for(|set| *set).await;
}

/// Counts a connection task out when it ends, however it ends.
struct Gone(Arc<Shared>);

impl Drop for Gone {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

/// At most [`MAX_RATE`] messages in any second.
#[derive(Default)]
struct Rate(std::collections::VecDeque<Instant>);

impl Rate {
    fn allow(&mut self, now: Instant) -> bool {
        while self
            .0
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= Duration::from_secs(1))
        {
            self.0.pop_front();
        }
        if self.0.len() >= MAX_RATE as usize {
            return false;
        }
        self.0.push_back(now);
        true
    }
}

async fn send(socket: &mut WebSocket, msg: Message) -> bool {
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(msg)).await,
        Ok(Ok(()))
    )
}

fn text(msg: &ServerMsg) -> Message {
    Message::Text(Utf8Bytes::from(msg.to_json()))
}

async fn connection(mut socket: WebSocket, addr: IpAddr, shared: Arc<Shared>) {
    let (tx, mut rx) = mpsc::channel::<Utf8Bytes>(OUTBOX);
    let conn = shared.hub().connect(tx);
    let mut closing = shared.closing.subscribe();
    let mut rate = Rate::default();
    // The close to send, and whether the socket may still be read for the
    // client's reply (not after a frame too large to read).
    let close: Option<(u16, &'static str, bool)> = loop {
        tokio::select! {
            () = until_set(&mut closing) => {
                while let Ok(m) = rx.try_recv() {
                    if !send(&mut socket, Message::Text(m)).await {
                        break;
                    }
                }
                break Some((CLOSE_GOING_AWAY, "the class server is stopping", true));
            }
            out = rx.recv() => match out {
                Some(m) => {
                    if !send(&mut socket, Message::Text(m)).await {
                        break None;
                    }
                }
                None => break Some((CLOSE_POLICY, "messages were piling up unread", true)),
            },
            incoming = socket.recv() => {
                let msg = match incoming {
                    None => break None,
                    Some(Ok(msg)) => msg,
                    Some(Err(e)) => {
                        break too_big(e).then_some((CLOSE_TOO_BIG, "a message is at most 4 KiB", false));
                    }
                };
                if matches!(msg, Message::Close(_)) {
                    break None;
                }
                if !rate.allow(Instant::now()) {
                    let busy = ServerMsg::error(
                        ErrorCode::TooMany,
                        format!("more than {MAX_RATE} messages in a second"),
                    );
                    send(&mut socket, text(&busy)).await;
                    break Some((CLOSE_POLICY, "too many messages", true));
                }
                let replies = match msg {
                    Message::Text(t) if t.len() > MAX_MESSAGE => {
                        break Some((CLOSE_TOO_BIG, "a message is at most 4 KiB", true));
                    }
                    Message::Binary(b) if b.len() > MAX_MESSAGE => {
                        break Some((CLOSE_TOO_BIG, "a message is at most 4 KiB", true));
                    }
                    Message::Text(t) => shared.handle(conn, addr, t.as_str()),
                    Message::Binary(_) => vec![ServerMsg::error(
                        ErrorCode::BadMessage,
                        "messages are JSON text frames",
                    )],
                    _ => Vec::new(),
                };
                let mut ok = true;
                for r in &replies {
                    ok &= send(&mut socket, text(r)).await;
                }
                if !ok {
                    break None;
                }
            }
        }
    };
    shared.hub().disconnect(conn);
    // (The teachers hear who is still here.)
    shared.tally.notify_one();
    if let Some((code, reason, readable)) = close {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        if send(&mut socket, Message::Close(Some(frame))).await && readable {
            // Wait (briefly) for the client's close, reading off what it
            // still sends, so that the socket is not reset under our close
            // frame before the client reads it.
            let _ = tokio::time::timeout(CLOSE_WAIT, async {
                while let Some(Ok(m)) = socket.recv().await {
                    if matches!(m, Message::Close(_)) {
                        break;
                    }
                }
            })
            .await;
        }
    }
}

/// Whether a read failed on a message over the size limit.
fn too_big(e: axum::Error) -> bool {
    let inner = e.into_inner();
    matches!(
        inner.downcast_ref::<tungstenite::Error>(),
        Some(tungstenite::Error::Capacity(_))
    )
}

/// Sends the teachers a tally at most every 200 ms while answers arrive,
/// and who is in the room as students come and go.
async fn tally_task(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = shared.tally.notified() => {}
            () = until_set(&mut stop) => return,
        }
        let wait = shared.hub().tally_wait(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        shared.hub().send_dirty_tallies(Instant::now());
    }
}

/// 6 characters of [`CODE_ALPHABET`].
fn class_code(rng: &mut impl RngCore) -> String {
    (0..CODE_LEN)
        .map(|_| {
            // 31 letters: the bias of a u32 modulo 31 is < 1e-8.
            let i = rng.next_u32() as usize % CODE_ALPHABET.len();
            char::from(CODE_ALPHABET[i])
        })
        .collect()
}

/// 128 random bits as 32 hex characters (URL-safe).
fn token(rng: &mut impl RngCore) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The machine's address on the room's network, found without sending a
/// packet: a UDP socket "connected" to a private address gets the local
/// address the route would use. 127.0.0.1 when there is no network.
fn lan_address() -> IpAddr {
    let probe = || -> std::io::Result<IpAddr> {
        let socket = std::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?;
        socket.connect((Ipv4Addr::new(10, 255, 255, 255), 1))?;
        Ok(socket.local_addr()?.ip())
    };
    match probe() {
        Ok(ip) if !ip.is_unspecified() => ip,
        _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
    }
}

/// A class of 1,000 students holds over 1,000 sockets: the soft limit on
/// open files (often 1,024) is raised to the hard one.
fn raise_file_limit() {
    #[cfg(unix)]
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            let wanted = limit.rlim_max.min(65_536);
            if limit.rlim_cur < wanted {
                limit.rlim_cur = wanted;
                libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_tokens_are_shaped_as_the_contract_says() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..100 {
            assert!(super::super::protocol::is_code(&class_code(&mut rng)));
            let t = token(&mut rng);
            assert!(super::super::store::is_token(&t) && t.len() == 32);
        }
    }

    #[test]
    fn the_rate_allows_twenty_a_second() {
        let mut rate = Rate::default();
        let t0 = Instant::now();
        assert!((0..20).all(|_| rate.allow(t0)));
        assert!(!rate.allow(t0 + Duration::from_millis(999)));
        assert!(rate.allow(t0 + Duration::from_secs(1)));
    }
}
