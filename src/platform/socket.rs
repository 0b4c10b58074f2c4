//! The class's WebSocket, as the app sees it on both targets: open it with
//! the `join` to send, [`ClassSocket::send`] messages, [`ClassSocket::poll`]
//! what arrived. A dropped connection comes back by itself with a growing
//! wait (0.5 s, 1 s, 2 s … at most 8 s) and joins again with the resume
//! token of the last `welcome`, so a student keeps their id and answers
//! across a server's restart; what was sent while down waits and goes out
//! after the join.
//!
//! The desktop uses tungstenite on a thread of its own; the page, the
//! browser's `WebSocket`. Nothing here reads the messages beyond the resume
//! token: the app's reducer does (a message from the class is a command).

use crate::class::protocol::{ClientMsg, ServerMsg};

/// What the socket saw.
#[derive(Debug, Clone, PartialEq)]
pub enum SocketEvent {
    /// Connected and the `join` sent.
    Up,
    Message(ServerMsg),
    /// The connection dropped (or could not be made); it is tried again.
    Down(String),
}

/// The most messages the page keeps while the connection is down (an
/// answer, a moment: a few at a time; a flood is dropped, oldest kept). The
/// desktop's thread keeps them in its channel: the app sends one per click.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
const MAX_WAITING: usize = 64;
const FIRST_WAIT_MS: u64 = 500;
const LONGEST_WAIT_MS: u64 = 8_000;

/// The join to send again after a reconnect: with the resume token the
/// server gave, once it gave one.
fn rejoin(join: &ClientMsg, resume: Option<&str>) -> ClientMsg {
    match (join, resume) {
        (
            ClientMsg::Join {
                code,
                name,
                teacher,
                ..
            },
            Some(token),
        ) => ClientMsg::Join {
            code: code.clone(),
            name: name.clone(),
            resume: Some(token.to_string()),
            teacher: teacher.clone(),
        },
        _ => join.clone(),
    }
}

/// Reads a server's text frame; a frame that is not one of the contract's
/// messages is dropped (the server is trusted no more than a file).
fn read(text: &str) -> Option<ServerMsg> {
    if text.len() > 64 * 1024 {
        return None;
    }
    serde_json::from_str(text).ok()
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::ClassSocket;
#[cfg(target_arch = "wasm32")]
pub use web::ClassSocket;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::net::TcpStream;
    use std::sync::mpsc::{channel, Receiver, Sender, TryRecvError};
    use std::time::Duration;

    use tungstenite::stream::MaybeTlsStream;
    use tungstenite::{Message, WebSocket};

    use super::*;
    use crate::app::jobs::Repaint;

    pub struct ClassSocket {
        outbox: Sender<ClientMsg>,
        events: Receiver<SocketEvent>,
    }

    impl ClassSocket {
        /// Connects to `ws` (a `ws://host:port/ws` address) on a thread of
        /// its own, which ends when this socket is dropped.
        pub fn open(ws: String, join: ClientMsg, repaint: Repaint) -> ClassSocket {
            let (outbox, waiting) = channel();
            let (tx, events) = channel();
            let _ = std::thread::Builder::new()
                .name("class-socket".into())
                .spawn(move || run(&ws, join, &waiting, &tx, &repaint));
            ClassSocket { outbox, events }
        }

        pub fn send(&self, message: ClientMsg) {
            let _ = self.outbox.send(message);
        }

        pub fn poll(&self) -> Option<SocketEvent> {
            self.events.try_recv().ok()
        }
    }

    /// Whether the app has gone (the socket was dropped).
    struct Gone;

    fn run(
        ws: &str,
        join: ClientMsg,
        waiting: &Receiver<ClientMsg>,
        events: &Sender<SocketEvent>,
        repaint: &Repaint,
    ) {
        let mut resume: Option<String> = None;
        let mut wait = FIRST_WAIT_MS;
        loop {
            let why = match tungstenite::connect(ws) {
                Ok((mut socket, _)) => {
                    if let MaybeTlsStream::Plain(stream) = socket.get_ref() {
                        // Short reads: the thread also sends what the app
                        // asks, so it cannot sit in a read.
                        let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
                        let _ = stream.set_nodelay(true);
                    }
                    let hello = rejoin(&join, resume.as_deref());
                    match socket.send(Message::text(hello.to_json())) {
                        Ok(()) => {
                            wait = FIRST_WAIT_MS;
                            let _ = events.send(SocketEvent::Up);
                            repaint();
                            match session(&mut socket, waiting, events, repaint, &mut resume) {
                                Ok(why) => why,
                                Err(Gone) => {
                                    let _ = socket.close(None);
                                    let _ = socket.flush();
                                    return;
                                }
                            }
                        }
                        Err(e) => e.to_string(),
                    }
                }
                Err(e) => e.to_string(),
            };
            if events.send(SocketEvent::Down(why)).is_err() {
                return;
            }
            repaint();
            std::thread::sleep(Duration::from_millis(wait));
            wait = (wait * 2).min(LONGEST_WAIT_MS);
        }
    }

    /// One connection's life: what the app sends goes out, what arrives
    /// goes to the app; returns why it ended.
    fn session(
        socket: &mut WebSocket<MaybeTlsStream<TcpStream>>,
        waiting: &Receiver<ClientMsg>,
        events: &Sender<SocketEvent>,
        repaint: &Repaint,
        resume: &mut Option<String>,
    ) -> Result<String, Gone> {
        loop {
            loop {
                match waiting.try_recv() {
                    Ok(message) => {
                        if let Err(e) = socket.send(Message::text(message.to_json())) {
                            return Ok(e.to_string());
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return Err(Gone),
                }
            }
            match socket.read() {
                Ok(Message::Text(text)) => {
                    if let Some(message) = read(text.as_str()) {
                        if let ServerMsg::Welcome { resume: token, .. } = &message {
                            *resume = Some(token.clone());
                        }
                        if events.send(SocketEvent::Message(message)).is_err() {
                            return Err(Gone);
                        }
                        repaint();
                    }
                }
                Ok(Message::Close(_)) => return Ok("closed by the server".into()),
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    let _ = socket.flush();
                }
                Err(e) => return Ok(e.to_string()),
            }
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod web {
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::rc::Rc;

    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    use super::*;
    use crate::app::jobs::Repaint;

    struct Inner {
        ws: String,
        join: ClientMsg,
        resume: Option<String>,
        socket: Option<web_sys::WebSocket>,
        up: bool,
        waiting: VecDeque<ClientMsg>,
        events: VecDeque<SocketEvent>,
        wait: u64,
        closed: bool,
        repaint: Repaint,
    }

    pub struct ClassSocket {
        inner: Rc<RefCell<Inner>>,
    }

    impl ClassSocket {
        pub fn open(ws: String, join: ClientMsg, repaint: Repaint) -> ClassSocket {
            let inner = Rc::new(RefCell::new(Inner {
                ws,
                join,
                resume: None,
                socket: None,
                up: false,
                waiting: VecDeque::new(),
                events: VecDeque::new(),
                wait: FIRST_WAIT_MS,
                closed: false,
                repaint,
            }));
            connect(&inner);
            ClassSocket { inner }
        }

        pub fn send(&self, message: ClientMsg) {
            let mut inner = self.inner.borrow_mut();
            if inner.up {
                if let Some(socket) = &inner.socket {
                    if socket.send_with_str(&message.to_json()).is_ok() {
                        return;
                    }
                }
            }
            if inner.waiting.len() < MAX_WAITING {
                inner.waiting.push_back(message);
            }
        }

        pub fn poll(&self) -> Option<SocketEvent> {
            self.inner.borrow_mut().events.pop_front()
        }
    }

    impl Drop for ClassSocket {
        fn drop(&mut self) {
            let mut inner = self.inner.borrow_mut();
            inner.closed = true;
            if let Some(socket) = inner.socket.take() {
                let _ = socket.close();
            }
        }
    }

    fn connect(inner: &Rc<RefCell<Inner>>) {
        let url = inner.borrow().ws.clone();
        let socket = match web_sys::WebSocket::new(&url) {
            Ok(socket) => socket,
            Err(e) => {
                down(inner, format!("{e:?}"));
                return;
            }
        };
        let on_open = {
            let inner = inner.clone();
            Closure::<dyn FnMut()>::new(move || {
                let mut i = inner.borrow_mut();
                let hello = rejoin(&i.join, i.resume.as_deref());
                if let Some(socket) = i.socket.clone() {
                    let _ = socket.send_with_str(&hello.to_json());
                    while let Some(m) = i.waiting.pop_front() {
                        let _ = socket.send_with_str(&m.to_json());
                    }
                }
                i.up = true;
                i.wait = FIRST_WAIT_MS;
                i.events.push_back(SocketEvent::Up);
                (i.repaint)();
            })
        };
        let on_message = {
            let inner = inner.clone();
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                let Some(text) = e.data().as_string() else {
                    return;
                };
                if let Some(message) = read(&text) {
                    let mut i = inner.borrow_mut();
                    if let ServerMsg::Welcome { resume, .. } = &message {
                        i.resume = Some(resume.clone());
                    }
                    i.events.push_back(SocketEvent::Message(message));
                    (i.repaint)();
                }
            })
        };
        let on_close = {
            let inner = inner.clone();
            Closure::<dyn FnMut(web_sys::CloseEvent)>::new(move |e: web_sys::CloseEvent| {
                down(&inner, format!("closed ({})", e.code()));
            })
        };
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // The handlers live as long as the page (a few per reconnect).
        on_open.forget();
        on_message.forget();
        on_close.forget();
        inner.borrow_mut().socket = Some(socket);
    }

    /// The connection is gone: say so, and try again after a wait.
    fn down(inner: &Rc<RefCell<Inner>>, why: String) {
        let wait = {
            let mut i = inner.borrow_mut();
            if i.closed {
                return;
            }
            i.up = false;
            i.socket = None;
            i.events.push_back(SocketEvent::Down(why));
            (i.repaint)();
            let wait = i.wait;
            i.wait = (i.wait * 2).min(LONGEST_WAIT_MS);
            wait
        };
        let again = {
            let inner = inner.clone();
            Closure::once_into_js(move || {
                if !inner.borrow().closed {
                    connect(&inner);
                }
            })
        };
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                again.unchecked_ref(),
                wait as i32,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejoin_carries_the_last_resume_token() {
        let join = ClientMsg::Join {
            code: "ABC234".into(),
            name: Some("Ann".into()),
            resume: None,
            teacher: None,
        };
        assert_eq!(rejoin(&join, None), join);
        match rejoin(&join, Some("tok")) {
            ClientMsg::Join { resume, name, .. } => {
                assert_eq!(resume.as_deref(), Some("tok"));
                assert_eq!(name.as_deref(), Some("Ann"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(read("{\"type\":\"nope\"}"), None);
        assert!(read(&"x".repeat(70_000)).is_none());
    }
}
