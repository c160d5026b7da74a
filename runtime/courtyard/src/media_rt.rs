//! Where RTP sessions run. By default on media threads of their own (`[media] threads`, default
//! half the CPUs, at least 1), each a single-threaded tokio runtime, so plugin execution, TTS and SIP bursts on the main
//! runtime cannot delay the 20 ms send clock; `threads = 0` puts media back on the main runtime.
//!
//! Media threads run at a raised scheduling priority (`[media] priority`) the way Asterisk (`-p`)
//! and FreeSWITCH (`-rp`/`-hp`) run theirs: on a busy machine, the tail of the RTP send lateness
//! is the media thread waiting for a CPU, not doing work (measured in docs/benchmarks.md). If the
//! process may not raise its priority (no `CAP_SYS_NICE`), a warning says how to grant it and
//! the threads run at normal priority.
//!
//! Why one single-threaded runtime per media thread rather than one multi-threaded runtime: a
//! session's task owns its socket and never moves; idle work-stealing workers spinning for work
//! doubled the media CPU with two threads (measured), and at raised priority that spin takes CPU
//! from SIP and the plugins.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use courtyard_media::{MediaConfig, MediaError, MediaSession, PortAllocator};
use serde::Deserialize;

/// Scheduling priority of the media threads (`[media] priority`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaPriority {
    /// The same as every other thread.
    Normal,
    /// Nice −10 (`SCHED_OTHER`): served first when the CPUs are contended, still fair to SIP and
    /// plugins when media alone would saturate the machine. Needs `CAP_SYS_NICE` (or root).
    #[default]
    High,
    /// `SCHED_FIFO` priority 10: always runs before normal threads. The lowest send lateness, but
    /// a media load larger than the machine starves SIP and the plugins (the kernel's RT
    /// throttling keeps 5 % for them). Needs `CAP_SYS_NICE`.
    Realtime,
}

/// Half the CPUs, at least one: media at raised priority can then take at most half the machine,
/// and SIP and the plugins keep the rest when calls outgrow it (measured on 2 cores: with two
/// media threads at nice −10, 750 calls starved SIP into failed calls; with one, 1000 calls had
/// 0 failures — docs/benchmarks.md).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

/// The media threads, started on first use.
struct MediaThreads {
    handles: Vec<tokio::runtime::Handle>,
    next: AtomicUsize,
}

static MEDIA: OnceLock<Option<MediaThreads>> = OnceLock::new();
static SETTINGS: OnceLock<(usize, MediaPriority)> = OnceLock::new();

/// Sets the media thread count and priority (from `[media]`); call once at start-up, before the
/// first call. Later calls are ignored (the threads are started once per process).
pub fn configure(threads: usize, priority: MediaPriority) {
    let _ = SETTINGS.set((threads, priority));
}

/// Opens a call leg's RTP session on the next media thread (round-robin), or on the current
/// runtime when `[media] threads = 0`.
pub async fn open(ports: &PortAllocator, config: MediaConfig) -> Result<MediaSession, MediaError> {
    let media = MEDIA.get_or_init(|| {
        let (threads, priority) = SETTINGS.get().copied().unwrap_or((default_threads(), MediaPriority::High));
        start(threads, priority)
    });
    match media {
        Some(m) => {
            let i = m.next.fetch_add(1, Ordering::Relaxed) % m.handles.len();
            MediaSession::open_on(&m.handles[i], ports, config)
        }
        None => MediaSession::open(ports, config).await,
    }
}

fn start(threads: usize, priority: MediaPriority) -> Option<MediaThreads> {
    if threads == 0 {
        return None;
    }
    let mut handles = Vec::with_capacity(threads);
    for n in 0..threads {
        let (tx, rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new().name(format!("media-{n}")).spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!(error = %e, "cannot start a media thread's runtime");
                    return;
                }
            };
            if let Err(e) = raise_priority(priority) {
                // Once per process is enough to tell the operator.
                if n == 0 {
                    tracing::warn!(
                        error = %e, ?priority,
                        "media threads keep normal priority: grant CAP_SYS_NICE (systemd: AmbientCapabilities=CAP_SYS_NICE) or set [media] priority = \"normal\""
                    );
                }
            }
            let _ = tx.send(rt.handle().clone());
            // Sessions are spawned onto this runtime through its handle; it runs them forever.
            rt.block_on(std::future::pending::<()>());
        });
        match spawned {
            Ok(_) => match rx.recv() {
                Ok(h) => handles.push(h),
                Err(_) => break,
            },
            Err(e) => tracing::error!(error = %e, "cannot start a media thread"),
        }
    }
    if handles.is_empty() {
        tracing::error!("no media thread could start; media shares the main runtime");
        return None;
    }
    tracing::info!(threads = handles.len(), ?priority, "media threads started");
    Some(MediaThreads { handles, next: AtomicUsize::new(0) })
}

/// Raises the calling thread's scheduling priority.
#[allow(unsafe_code)] // two libc calls on the calling thread; no pointers outlive the call.
fn raise_priority(priority: MediaPriority) -> std::io::Result<()> {
    match priority {
        MediaPriority::Normal => Ok(()),
        MediaPriority::High => {
            // SAFETY: gettid has no preconditions; setpriority on our own thread id only reads
            // its integer arguments.
            let r = unsafe {
                let tid = libc::gettid();
                libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, -10)
            };
            if r == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
        }
        MediaPriority::Realtime => {
            let param = libc::sched_param { sched_priority: 10 };
            // SAFETY: pid 0 is the calling thread; `param` is a valid sched_param that lives
            // across the call, which only reads it.
            let r = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) };
            if r == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_names_parse_as_the_config_documents_them() {
        #[derive(Deserialize)]
        struct T {
            p: MediaPriority,
        }
        for (s, want) in [("normal", MediaPriority::Normal), ("high", MediaPriority::High), ("realtime", MediaPriority::Realtime)] {
            let t: T = toml::from_str(&format!("p = \"{s}\"")).unwrap();
            assert_eq!(t.p, want);
        }
        assert!(toml::from_str::<T>("p = \"urgent\"").is_err());
    }

    #[test]
    fn normal_priority_changes_nothing_and_high_either_applies_or_reports_why() {
        std::thread::spawn(|| {
            raise_priority(MediaPriority::Normal).unwrap();
            match raise_priority(MediaPriority::High) {
                // Root or CAP_SYS_NICE: the thread's nice value is now −10.
                Ok(()) => {
                    let tid = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
                    let nice: i32 = tid.rsplit(')').next().unwrap().split_whitespace().nth(16).unwrap().parse().unwrap();
                    assert_eq!(nice, -10);
                }
                Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied, "{e}"),
            }
        })
        .join()
        .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn sessions_run_on_the_media_threads_round_robin() {
        let ports = PortAllocator::any("127.0.0.1".parse().unwrap());
        let m = start(2, MediaPriority::Normal).unwrap();
        assert_eq!(m.handles.len(), 2);
        // A task spawned through each handle runs on that media thread.
        for (i, h) in m.handles.iter().enumerate() {
            let name = h.spawn(async { std::thread::current().name().map(str::to_owned) }).await.unwrap();
            assert_eq!(name.as_deref(), Some(format!("media-{i}").as_str()));
        }
        // And a session opened on one sends RTP (its socket lives on the media thread).
        let s = MediaSession::open_on(&m.handles[1], &ports, MediaConfig::default()).unwrap();
        let peer = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        s.set_remote(peer.local_addr().unwrap(), courtyard_media::Codec::Pcmu, None);
        let mut buf = [0u8; 512];
        let n = tokio::time::timeout(std::time::Duration::from_secs(2), peer.recv(&mut buf)).await.unwrap().unwrap();
        assert_eq!(n, 12 + 160, "one 20 ms PCMU frame of silence");
        s.close().await;
    }
}
