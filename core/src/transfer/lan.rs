//! OTPX/2 over the local network: one TCP connection carries the whole exchange.
//!
//! ```text
//! sender → receiver   "OTPX2L" ‖ session tag (8) ‖ enc (32)         hello
//! receiver → sender   "N" ‖ n_R (16)                                 locked: the nonce
//!                     (or "R": refused — another sender is locked, or wrong session)
//!   … the sender checks n_R against the invite's commitment, shows its code, and sends
//!     only when its user confirmed that both screens show the same code:
//! sender → receiver   ciphertext length (u32) ‖ ciphertext
//! receiver → sender   "A" (the user accepted, the accounts were added) or "R"
//! ```
//!
//! The receiver keeps accepting connections until one delivers a complete hello with its
//! session tag, handling every pending connection at once (non-blocking), so a connection that
//! stalls never blocks the real sender. The whole exchange has one absolute deadline, and the
//! invite's expiry is checked again whenever data arrives. The sender connects only to the
//! private IP literal in the invite ([`super::check_lan_address`]).

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use super::{
    ENC_LEN, Invite, MAX_BLOB_BYTES, NONCE_LEN, Reply, TransferError, TransferReceiver,
    TransferSender, check_lan_address,
};

const MAGIC: &[u8; 6] = b"OTPX2L";
const HELLO: usize = 6 + 8 + ENC_LEN;
/// Connections waiting for their hello at once; the oldest is dropped for a new one.
const MAX_PENDING: usize = 8;
/// How long one connection may take to send its hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(10);

fn net(e: std::io::Error) -> TransferError {
    match e.kind() {
        ErrorKind::TimedOut | ErrorKind::WouldBlock => TransferError::Timeout,
        _ => TransferError::Network(e.to_string()),
    }
}

/// Reads exactly `buf.len()` bytes before `deadline` (each read waits at most what is left).
fn read_until(
    stream: &mut TcpStream,
    buf: &mut [u8],
    deadline: Instant,
) -> Result<(), TransferError> {
    let mut got = 0;
    while got < buf.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(TransferError::Timeout);
        }
        stream.set_read_timeout(Some(left)).map_err(net)?;
        match stream.read(&mut buf[got..]) {
            Ok(0) => {
                return Err(TransferError::Network(
                    "the other device closed the connection".into(),
                ));
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(net(e)),
        }
    }
    Ok(())
}

fn write_until(
    stream: &mut TcpStream,
    data: &[u8],
    deadline: Instant,
) -> Result<(), TransferError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(TransferError::Timeout);
    }
    stream.set_write_timeout(Some(left)).map_err(net)?;
    stream.write_all(data).map_err(net)
}

struct Pending {
    stream: TcpStream,
    buf: Vec<u8>,
    since: Instant,
}

/// The receiver's side of a LAN transfer that has its data: answer once the user decided.
pub struct Incoming {
    stream: TcpStream,
    deadline: Instant,
}

impl Incoming {
    /// Tells the sender whether the user accepted (after comparing the codes).
    pub fn answer(mut self, accepted: bool) -> Result<(), TransferError> {
        let deadline = self.deadline.max(Instant::now() + Duration::from_secs(2));
        write_until(
            &mut self.stream,
            if accepted { b"A" } else { b"R" },
            deadline,
        )
    }
}

/// [`receive`] on the invite's LAN address (bound here); `TransferError::Invalid` when the
/// invite has none, `Network` when it cannot be listened on.
pub fn receive_on_invite(
    receiver: &mut TransferReceiver,
    timeout: Duration,
    now_s: &dyn Fn() -> u64,
    on_locked: &mut dyn FnMut(&TransferReceiver),
) -> Result<Incoming, TransferError> {
    let addr = receiver.invite().lan.clone().ok_or_else(|| {
        TransferError::Invalid("this session has no LAN address (make the invite with one)".into())
    })?;
    let listener = TcpListener::bind(&addr)
        .map_err(|e| TransferError::Network(format!("cannot listen on {addr}: {e}")))?;
    receive(listener, receiver, timeout, now_s, on_locked)
}

/// Waits on `listener` until `timeout` has passed in all (an absolute deadline): takes the
/// first connection that sends a complete hello for this session, locks its sender, sends the
/// nonce, then reads the sealed data and opens it into `receiver`. `now_s` is asked again
/// whenever data arrives, so an invite that expires while waiting is refused.
/// `on_locked` runs once the sender is locked (the code can be shown from then on).
pub fn receive(
    listener: TcpListener,
    receiver: &mut TransferReceiver,
    timeout: Duration,
    now_s: &dyn Fn() -> u64,
    on_locked: &mut dyn FnMut(&TransferReceiver),
) -> Result<Incoming, TransferError> {
    let deadline = Instant::now() + timeout;
    listener.set_nonblocking(true).map_err(net)?;
    let session_tag: [u8; 8] = receiver.invite().session_id[..8].try_into().expect("8");
    let mut pending: Vec<Pending> = Vec::new();
    let (mut stream, hello) = 'outer: loop {
        if Instant::now() >= deadline {
            return Err(TransferError::Timeout);
        }
        receiver.check_time(now_s())?;
        loop {
            match listener.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(true).map_err(net)?;
                    if pending.len() >= MAX_PENDING {
                        pending.remove(0);
                    }
                    pending.push(Pending {
                        stream: s,
                        buf: Vec::with_capacity(HELLO),
                        since: Instant::now(),
                    });
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(net(e)),
            }
        }
        let mut i = 0;
        while i < pending.len() {
            let p = &mut pending[i];
            let mut chunk = [0u8; HELLO];
            let want = HELLO - p.buf.len();
            let verdict = match p.stream.read(&mut chunk[..want]) {
                Ok(0) => Some(false),
                Ok(n) => {
                    p.buf.extend_from_slice(&chunk[..n]);
                    let b = &p.buf;
                    let magic_ok = MAGIC[..b.len().min(6)] == b[..b.len().min(6)];
                    let tag_ok = b.len() <= 6
                        || session_tag[..(b.len() - 6).min(8)] == b[6..b.len().min(14)];
                    if !magic_ok || !tag_ok {
                        Some(false)
                    } else if b.len() == HELLO {
                        Some(true)
                    } else {
                        None
                    }
                }
                Err(e)
                    if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted =>
                {
                    (p.since.elapsed() > HELLO_TIMEOUT).then_some(false)
                }
                Err(_) => Some(false),
            };
            match verdict {
                Some(true) => {
                    let p = pending.swap_remove(i);
                    break 'outer (p.stream, p.buf);
                }
                Some(false) => {
                    let mut p = pending.swap_remove(i);
                    let _ = p.stream.write(b"R");
                }
                None => i += 1,
            }
        }
        std::thread::sleep(POLL);
    };
    // The sender is chosen; nobody else is heard.
    drop(listener);
    for mut p in pending {
        let _ = p.stream.write(b"R");
    }
    stream.set_nonblocking(false).map_err(net)?;
    let result = (|| {
        let enc = &hello[14..];
        receiver.lock_sender(enc, now_s())?;
        on_locked(receiver);
        let reply = receiver.reply().expect("locked");
        let mut msg = Vec::with_capacity(1 + NONCE_LEN);
        msg.push(b'N');
        msg.extend_from_slice(reply.nonce());
        write_until(&mut stream, &msg, deadline)?;
        let mut len = [0u8; 4];
        read_until(&mut stream, &mut len, deadline)?;
        let len = u64::from(u32::from_be_bytes(len));
        if len + ENC_LEN as u64 > MAX_BLOB_BYTES as u64 {
            return Err(TransferError::Oversized(len));
        }
        let mut blob = Vec::with_capacity(ENC_LEN + len as usize);
        blob.extend_from_slice(enc);
        blob.resize(ENC_LEN + len as usize, 0);
        read_until(&mut stream, &mut blob[ENC_LEN..], deadline)?;
        receiver.receive_blob(&blob, now_s())
    })();
    match result {
        Ok(()) => Ok(Incoming { stream, deadline }),
        Err(e) => {
            let _ = stream.write(b"R");
            Err(e)
        }
    }
}

/// The sender's side of a LAN transfer after the receiver revealed its nonce: the code is
/// known; [`Outgoing::send`] only after the user confirmed both screens show it.
pub struct Outgoing {
    stream: TcpStream,
    deadline: Instant,
    code: String,
}

impl Outgoing {
    /// The code to compare with the receiver's screen.
    pub fn confirmation_code(&self) -> &str {
        &self.code
    }

    /// Sends the ciphertext and waits (until the deadline) for the receiver's user.
    pub fn send(mut self, sender: &TransferSender) -> Result<(), TransferError> {
        let ct = &sender.blob()[ENC_LEN..];
        let mut msg = Vec::with_capacity(4 + ct.len());
        msg.extend_from_slice(&(ct.len() as u32).to_be_bytes());
        msg.extend_from_slice(ct);
        write_until(&mut self.stream, &msg, self.deadline)?;
        let mut answer = [0u8; 1];
        read_until(&mut self.stream, &mut answer, self.deadline)?;
        match &answer {
            b"A" => Ok(()),
            _ => Err(TransferError::Refused(
                "the new device did not accept the accounts".into(),
            )),
        }
    }
}

/// Connects to the invite's LAN address (a private IP literal, checked again here), sends
/// the hello, and takes the receiver's nonce; `timeout` bounds the whole exchange including
/// [`Outgoing::send`].
pub fn connect(
    sender: &mut TransferSender,
    timeout: Duration,
    now_s: &dyn Fn() -> u64,
) -> Result<Outgoing, TransferError> {
    let deadline = Instant::now() + timeout;
    let invite: &Invite = sender.invite();
    let text = invite
        .lan
        .as_deref()
        .ok_or_else(|| TransferError::Invalid("the invite has no LAN address".into()))?;
    let addr = check_lan_address(text)?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(net)?;
    let mut hello = Vec::with_capacity(HELLO);
    hello.extend_from_slice(MAGIC);
    hello.extend_from_slice(&invite.session_id[..8]);
    hello.extend_from_slice(&sender.blob()[..ENC_LEN]);
    write_until(&mut stream, &hello, deadline)?;
    let mut answer = [0u8; 1];
    read_until(&mut stream, &mut answer, deadline)?;
    if &answer != b"N" {
        return Err(TransferError::Refused(
            "it is already receiving from another sender, or this invite is not its current one"
                .into(),
        ));
    }
    let mut nonce = [0u8; NONCE_LEN];
    read_until(&mut stream, &mut nonce, deadline)?;
    let reply = Reply::new(
        invite.session_id[..8].try_into().expect("8"),
        sender.state().sender_tag(),
        nonce,
    );
    let code = sender.accept_reply(&reply, now_s())?;
    Ok(Outgoing {
        stream,
        deadline,
        code,
    })
}
