//! Where RTP sessions run. By default on media threads of their own (`[media] threads`, default
//! half the CPUs, at least 1), each a [`MediaThread`] that drives all its legs from one timing
//! wheel, so plugin execution, TTS and SIP bursts on the main runtime cannot delay the 20 ms send
//! clock; `threads = 0` puts media back on the main runtime (a tokio task per leg).
//!
//! Media threads run at a raised scheduling priority (`[media] priority`) the way Asterisk (`-p`)
//! and FreeSWITCH (`-rp`/`-hp`) run theirs: on a busy machine, the tail of the RTP send lateness
//! is the media thread waiting for a CPU, not doing work (measured in docs/benchmarks.md). If the
//! process may not raise its priority (no `CAP_SYS_NICE`), a warning says how to grant it and
//! the threads run at normal priority.
//!
//! Why a wheel thread rather than a tokio runtime per media thread: with a task and a timer per
//! leg, tokio's millisecond timer made every tick 1–2 ms late before any load, and the per-leg
//! wake-ups cost CPU the busiest calls need (measured in docs/benchmarks.md, session 5).

use std::sync::OnceLock;

use courtyard_media::{MediaConfig, MediaError, MediaSession, MediaThread, PortAllocator};
use serde::Deserialize;

/// Scheduling priority of the media threads (`[media] priority`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaPriority {
    /// The same as every other thread.
    Normal,
    /// Nice −10 (`SCHED_OTHER`) with a 1 ms EEVDF slice: served first when the CPUs are
    /// contended, still fair to SIP and plugins when media alone would saturate the machine.
    /// Needs `CAP_SYS_NICE` (or root).
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

/// `[media] max_load` by default: a thread busy 90 % of each second has no room left for the
/// bursts of a slot (measured: send lateness p99 climbs past 20 ms above it, docs/benchmarks.md).
pub const DEFAULT_MAX_LOAD: f64 = 0.9;

/// True when a new call should be refused: every media thread is at or above `max_load` (a new
/// leg goes to the least busy one, so one busy thread is not enough). Never with `max_load` 0,
/// before the first call, or with media on the main runtime.
pub fn overloaded(max_load: f64) -> bool {
    max_load > 0.0 && MEDIA.get().and_then(Option::as_ref).is_some_and(|m| all_at_or_above(m.threads.iter().map(|t| t.load()), max_load))
}

fn all_at_or_above(mut loads: impl Iterator<Item = f64>, max_load: f64) -> bool {
    let mut any = false;
    let all = loads.all(|l| {
        any = true;
        l >= max_load
    });
    any && all
}

/// Each media thread's name and load (for `/metrics`).
pub fn loads() -> Vec<(String, f64)> {
    MEDIA.get().and_then(Option::as_ref).map_or_else(Vec::new, |m| m.threads.iter().map(|t| (t.name().to_string(), t.load())).collect())
}

/// The media threads, started on first use.
struct MediaThreads {
    threads: Vec<MediaThread>,
}

static MEDIA: OnceLock<Option<MediaThreads>> = OnceLock::new();
static SETTINGS: OnceLock<(usize, MediaPriority)> = OnceLock::new();

/// Sets the media thread count and priority (from `[media]`); call once at start-up, before the
/// first call. Later calls are ignored (the threads are started once per process).
pub fn configure(threads: usize, priority: MediaPriority) {
    let _ = SETTINGS.set((threads, priority));
}

/// Opens a call leg's RTP session on the media thread with the fewest legs, or on the current
/// runtime when `[media] threads = 0`.
pub async fn open(ports: &PortAllocator, config: MediaConfig) -> Result<MediaSession, MediaError> {
    let media = MEDIA.get_or_init(|| {
        let (threads, priority) = SETTINGS.get().copied().unwrap_or((default_threads(), MediaPriority::High));
        start(threads, priority)
    });
    match media {
        Some(m) => match m.threads.iter().min_by_key(|t| t.legs()) {
            Some(t) => MediaSession::open_on_thread(t, ports, config),
            None => MediaSession::open(ports, config).await,
        },
        None => MediaSession::open(ports, config).await,
    }
}

fn start(threads: usize, priority: MediaPriority) -> Option<MediaThreads> {
    if threads == 0 {
        return None;
    }
    let mut started = Vec::with_capacity(threads);
    for n in 0..threads {
        let spawned = MediaThread::spawn(format!("media-{n}"), move || {
            if let Err(e) = raise_priority(priority) {
                // Once per process is enough to tell the operator.
                if n == 0 {
                    tracing::warn!(
                        error = %e, ?priority,
                        "media threads keep normal priority: grant CAP_SYS_NICE (systemd: AmbientCapabilities=CAP_SYS_NICE) or set [media] priority = \"normal\""
                    );
                }
            }
        });
        match spawned {
            Ok(t) => started.push(t),
            Err(e) => tracing::error!(error = %e, "cannot start a media thread"),
        }
    }
    if started.is_empty() {
        tracing::error!("no media thread could start; media shares the main runtime");
        return None;
    }
    tracing::info!(threads = started.len(), ?priority, "media threads started");
    Some(MediaThreads { threads: started })
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
            if r != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if let Err(e) = short_slice(-10) {
                tracing::debug!(error = %e, "media thread keeps the default EEVDF slice");
            }
            Ok(())
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

/// The kernel's `struct sched_attr` (the first, 48-byte version).
#[repr(C)]
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
}

/// The media threads' time slice under EEVDF: a media thread's work per wake-up is well under a
/// millisecond (one 1 ms slot of legs), the default slice is 3 ms.
const MEDIA_SLICE: std::time::Duration = std::time::Duration::from_millis(1);

/// Asks the scheduler for a short time slice (EEVDF, Linux ≥ 6.12: `sched_runtime` of a
/// `SCHED_OTHER` thread): a waking thread with a shorter slice than the running one may preempt
/// it instead of waiting for that one's slice to end. Older kernels accept and ignore it.
#[allow(unsafe_code)] // one syscall on the calling thread with a struct that outlives it.
fn short_slice(nice: i32) -> std::io::Result<()> {
    let attr = SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        policy: libc::SCHED_OTHER as u32,
        flags: 0,
        nice,
        priority: 0,
        runtime: MEDIA_SLICE.as_nanos() as u64,
        deadline: 0,
        period: 0,
    };
    // SAFETY: pid 0 is the calling thread; `attr` is a valid sched_attr whose size field matches
    // it, and the kernel only reads it during the call.
    let r = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0) };
    if r == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_refused_only_when_every_media_thread_is_at_the_limit() {
        assert!(all_at_or_above([0.95, 0.91].into_iter(), 0.9));
        assert!(!all_at_or_above([0.95, 0.4].into_iter(), 0.9), "the new leg would go to the idle thread");
        assert!(!all_at_or_above(std::iter::empty(), 0.9), "no threads: nothing to protect");
        assert!(!overloaded(0.0), "0 turns the check off");
    }

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
                    // Kernels with EEVDF custom slices (≥ 6.12) show the thread's slice.
                    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
                    let mut v = release.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse::<u32>().ok());
                    let custom_slices = (v.next().unwrap_or(0), v.next().unwrap_or(0)) >= (6, 12);
                    let sched = std::fs::read_to_string("/proc/thread-self/sched").unwrap_or_default();
                    if let Some(line) = sched.lines().find(|l| custom_slices && l.starts_with("se.slice")) {
                        let ns: u64 = line.rsplit(':').next().unwrap().trim().parse().unwrap();
                        assert_eq!(ns, MEDIA_SLICE.as_nanos() as u64, "{line}");
                    }
                }
                Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied, "{e}"),
            }
        })
        .join()
        .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn sessions_go_to_the_least_busy_media_thread_and_send_rtp() {
        let ports = PortAllocator::any("127.0.0.1".parse().unwrap());
        let m = start(2, MediaPriority::Normal).unwrap();
        let names: Vec<&str> = m.threads.iter().map(|t| t.name()).collect();
        assert_eq!(names, ["media-0", "media-1"]);
        let open = |m: &MediaThreads| {
            let t = m.threads.iter().min_by_key(|t| t.legs()).unwrap();
            MediaSession::open_on_thread(t, &ports, MediaConfig::default()).unwrap()
        };
        let a = open(&m);
        let b = open(&m);
        let c = open(&m);
        let legs: Vec<usize> = m.threads.iter().map(|t| t.legs()).collect();
        assert_eq!(legs, [2, 1], "three calls spread over two threads");
        // A leg on a media thread sends RTP once it knows where to.
        let peer = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        b.set_remote(peer.local_addr().unwrap(), courtyard_media::Codec::Pcmu, None);
        let mut buf = [0u8; 512];
        let n = tokio::time::timeout(std::time::Duration::from_secs(2), peer.recv(&mut buf)).await.unwrap().unwrap();
        assert_eq!(n, 12 + 160, "one 20 ms PCMU frame of silence");
        // Closed legs leave their thread, so the next call goes where there is room.
        a.close().await;
        c.close().await;
        assert_eq!(m.threads.iter().map(|t| t.legs()).sum::<usize>(), 1);
        b.close().await;
        assert_eq!(ports.in_use(), 0);
    }
}
