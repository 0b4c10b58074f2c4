//! The app's end of a live class: the WebSocket to the server and, on the
//! desktop, the server this app started (*File → Start a class*). The top
//! struct holds one of these; the reducer asks for changes with
//! [`ClassEffect`]s and the frame reads what arrived with [`ClassLink::poll`].

use super::command::{ClassEffect, ClassMove, UiCommand};
use super::jobs::Repaint;
use crate::platform::socket::ClassSocket;

/// Hung up until the reducer asks for a connection.
#[derive(Default)]
pub struct ClassLink {
    socket: Option<ClassSocket>,
    /// Dropped (and so stopped) on hang-up.
    #[cfg(not(target_arch = "wasm32"))]
    server: Option<crate::class::server::RunningClass>,
}

/// What carrying out an effect has to say back to the reducer.
pub enum Outcome {
    Nothing,
    /// The server started: this app joins it as the teacher.
    Join(ClassMove),
    /// The server could not start; why.
    Failed(String),
}

impl ClassLink {
    /// Queues what the socket received since the last frame.
    pub fn poll(&self, commands: &mut Vec<UiCommand>) {
        if let Some(socket) = &self.socket {
            while let Some(event) = socket.poll() {
                commands.push(UiCommand::Class(ClassMove::Socket(event)));
            }
        }
    }

    /// Connects, sends, hangs up; on the desktop also starts the server.
    pub fn carry_out(&mut self, effect: ClassEffect, repaint: &Repaint) -> Outcome {
        match effect {
            ClassEffect::StartServer =>
            {
                #[cfg(not(target_arch = "wasm32"))]
                match start_server() {
                    Ok((server, join)) => {
                        self.server = Some(server);
                        return Outcome::Join(join);
                    }
                    Err(why) => return Outcome::Failed(why),
                }
            }
            ClassEffect::Connect { ws, join } => {
                self.socket = Some(ClassSocket::open(ws, join, repaint.clone()));
            }
            ClassEffect::Send(message) => {
                if let Some(socket) = &self.socket {
                    socket.send(message);
                }
            }
            ClassEffect::Disconnect => {
                self.socket = None;
                #[cfg(not(target_arch = "wasm32"))]
                {
                    self.server = None;
                }
            }
        }
        Outcome::Nothing
    }
}

/// Starts the class server in this process, on the room's network at port
/// 8080 (any free port if that one is taken), its answers kept beside the
/// app's settings; returns it and the join that makes this app its teacher.
#[cfg(not(target_arch = "wasm32"))]
fn start_server() -> Result<(crate::class::server::RunningClass, ClassMove), String> {
    use crate::class::server::{start, ClassConfig};
    let dir = eframe::storage_dir("backprop-viz").unwrap_or_else(std::env::temp_dir);
    let _ = std::fs::create_dir_all(&dir);
    let config = |port| ClassConfig {
        bind: std::net::IpAddr::from([0, 0, 0, 0]),
        port,
        db: dir.join("class.sqlite"),
        title: String::new(),
        site: None,
    };
    let server = start(config(8080))
        .or_else(|_| start(config(0)))
        .map_err(|e| e.to_string())?;
    let info = server.info().clone();
    let join = ClassMove::Join {
        ws: info.ws.clone(),
        code: info.code.clone(),
        teacher: Some(info.token.clone()),
        name: None,
        join_url: Some(info.url.clone()),
        teacher_url: Some(info.teacher_url.clone()),
    };
    Ok((server, join))
}
