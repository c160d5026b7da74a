//! Where RTP sessions run: on the main tokio runtime (default), or on a runtime of their own
//! (`[media] threads = N`) so plugin execution, TTS and SIP bursts on the main runtime cannot
//! delay the 20 ms send clock. The load benchmark measures both (docs/benchmarks.md).

use std::sync::OnceLock;

use courtyard_media::{MediaConfig, MediaError, MediaSession, PortAllocator};

static MEDIA_RT: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();

/// Opens a call's RTP session on the configured runtime.
pub async fn open(ports: &PortAllocator, threads: usize, config: MediaConfig) -> Result<MediaSession, MediaError> {
    let rt = MEDIA_RT.get_or_init(|| {
        (threads > 0)
            .then(|| {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(threads)
                    .thread_name("media")
                    .enable_all()
                    .build()
                    .map_err(|e| tracing::error!(error = %e, "cannot start the media runtime; media shares the main runtime"))
                    .ok()
            })
            .flatten()
    });
    match rt {
        Some(rt) => MediaSession::open_on(rt.handle(), ports, config),
        None => MediaSession::open(ports, config).await,
    }
}
