//! The listening socket: bound once (by the master, or the single process) and
//! inherited by prefork workers as a file descriptor, so every worker accepts from the
//! same kernel queue and a worker going away never refuses a connection.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::str::FromStr;

use nix::fcntl::{fcntl, FcntlArg, FdFlag};

/// Where to listen: `HOST:PORT` or `unix:/path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bind {
    /// A TCP address.
    Tcp(String),
    /// A Unix socket path.
    Unix(PathBuf),
}

impl FromStr for Bind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.strip_prefix("unix:") {
            Some("") => Err("`unix:` needs a path, e.g. unix:/run/fymo.sock".into()),
            Some(path) => Ok(Self::Unix(PathBuf::from(path))),
            None if s.contains(':') => Ok(Self::Tcp(s.to_owned())),
            None => Err(format!("`{s}` is neither HOST:PORT nor unix:PATH")),
        }
    }
}

/// A bound, listening socket (blocking std type, fit to hand to child processes).
#[derive(Debug)]
pub(crate) enum BoundListener {
    /// TCP.
    Tcp(std::net::TcpListener),
    /// Unix socket, with its path (empty when inherited).
    Unix(std::os::unix::net::UnixListener, PathBuf),
}

/// The async listener a server runs on.
#[derive(Debug)]
pub(crate) enum AsyncListener {
    /// TCP.
    Tcp(tokio::net::TcpListener),
    /// Unix socket.
    Unix(tokio::net::UnixListener),
}

impl BoundListener {
    /// Binds `bind` (a stale Unix socket file is replaced).
    ///
    /// # Errors
    /// When the address is in use or not allowed.
    pub(crate) fn bind(bind: &Bind) -> std::io::Result<Self> {
        match bind {
            Bind::Tcp(addr) => Ok(Self::Tcp(std::net::TcpListener::bind(addr)?)),
            Bind::Unix(path) => {
                if path.exists() {
                    std::fs::remove_file(path)?;
                }
                Ok(Self::Unix(std::os::unix::net::UnixListener::bind(path)?, path.clone()))
            }
        }
    }

    /// `http://HOST:PORT` or `unix:/path`, for logs.
    pub(crate) fn url(&self) -> String {
        match self {
            Self::Tcp(l) => l.local_addr().map_or_else(|_| "http://?".into(), |a| format!("http://{a}")),
            Self::Unix(_, path) => format!("unix:{}", path.display()),
        }
    }

    /// `tcp` or `unix`: how a worker must adopt the inherited descriptor.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Tcp(_) => "tcp",
            Self::Unix(..) => "unix",
        }
    }

    /// Clears close-on-exec so child processes inherit the socket; returns its number.
    ///
    /// # Errors
    /// When `fcntl` fails.
    pub(crate) fn share_with_children(&self) -> std::io::Result<RawFd> {
        let fd = match self {
            Self::Tcp(l) => l.as_fd(),
            Self::Unix(l, _) => l.as_fd(),
        };
        share_with_children(fd)
    }

    /// Adopts the socket a prefork master passed down as descriptor `fd`.
    ///
    /// # Errors
    /// An unknown `kind`, or a descriptor that is not a socket.
    pub(crate) fn inherit(fd: RawFd, kind: &str) -> std::io::Result<Self> {
        let owned = adopt_inherited(fd)?;
        match kind {
            "tcp" => Ok(Self::Tcp(owned.into())),
            "unix" => Ok(Self::Unix(owned.into(), PathBuf::new())),
            other => Err(std::io::Error::other(format!("unknown inherited listener kind `{other}`"))),
        }
    }

    /// Converts into a tokio listener; call inside a runtime.
    ///
    /// # Errors
    /// When the socket cannot be registered with the runtime.
    pub(crate) fn into_async(self) -> std::io::Result<AsyncListener> {
        match self {
            Self::Tcp(l) => {
                l.set_nonblocking(true)?;
                Ok(AsyncListener::Tcp(tokio::net::TcpListener::from_std(l)?))
            }
            Self::Unix(l, _) => {
                l.set_nonblocking(true)?;
                Ok(AsyncListener::Unix(tokio::net::UnixListener::from_std(l)?))
            }
        }
    }
}

/// Clears close-on-exec on `fd` so child processes inherit it; returns its number.
///
/// # Errors
/// When `fcntl` fails.
pub(crate) fn share_with_children(fd: BorrowedFd<'_>) -> std::io::Result<RawFd> {
    fcntl(fd, FcntlArg::F_SETFD(FdFlag::empty())).map_err(std::io::Error::from)?;
    Ok(fd.as_raw_fd())
}

/// Takes ownership of descriptor `fd`, which the prefork master left open for this
/// process (the listening socket, the master's liveness pipe), and marks it
/// close-on-exec so this process's own children (Python workers, node) do not hold it.
///
/// The one place in the crate that adopts a raw descriptor.
///
/// # Errors
/// When `fcntl` fails (`fd` is not open).
#[allow(unsafe_code)]
pub(crate) fn adopt_inherited(fd: RawFd) -> std::io::Result<OwnedFd> {
    // SAFETY: the master opened `fd` for this process and passed its number in this
    // process's environment; nothing else in the process owns or closes that number, and
    // each number is adopted exactly once, at start-up.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    fcntl(owned.as_fd(), FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).map_err(std::io::Error::from)?;
    Ok(owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bind_addresses() {
        assert_eq!("127.0.0.1:8000".parse(), Ok(Bind::Tcp("127.0.0.1:8000".into())));
        assert_eq!("unix:/tmp/f.sock".parse(), Ok(Bind::Unix("/tmp/f.sock".into())));
        assert!("unix:".parse::<Bind>().is_err());
        assert!("localhost".parse::<Bind>().is_err());
    }
}
