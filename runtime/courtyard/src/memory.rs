//! Giving freed heap back to the operating system after work that allocates a lot once: compiling
//! a plugin version at install (cranelift's working memory) and dropping one at uninstall.
//!
//! glibc's allocator keeps freed memory in its arenas for reuse; after a burst like a compile,
//! most of it is never reused and stays in the process's RSS. Measured with
//! `tests/bench/swap-memory.sh` (20 install/activate/rollback/uninstall cycles under load): see
//! docs/benchmarks.md. `malloc_trim` returns whole free pages of every arena; it takes a few
//! milliseconds and runs only on these operator actions, never on the call path.

/// Returns free heap pages to the OS (glibc only; elsewhere nothing to do). Returns the RSS
/// before and after in KiB when they could be read, for the log.
pub fn release_freed() -> Option<(u64, u64)> {
    let before = rss_kib();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: malloc_trim only walks the allocator's own free lists; no pointer of ours is
    // involved, and it is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
    let after = rss_kib();
    let r = before.zip(after);
    if let Some((b, a)) = r {
        tracing::debug!(rss_before_kib = b, rss_after_kib = a, "freed heap returned to the OS");
    }
    r
}

/// The process's resident set in KiB (`VmRSS`), for the log here and `/metrics`.
pub fn rss_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:").and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn freed_heap_under_a_live_block_is_given_back() {
        // 128 MiB in small blocks (like a compiler's working memory), then one block that stays
        // (so the freed memory is not at the top of the heap, where the allocator would shrink
        // the heap by itself), then the small blocks freed.
        let blocks: Vec<Vec<u8>> = (0..128 * 1024).map(|i| vec![i as u8; 1000]).collect();
        let pin = vec![1u8; 1000];
        let peak = super::rss_kib().expect("RSS readable on Linux");
        drop(blocks);
        let (_, after) = super::release_freed().expect("RSS readable on Linux");
        assert!(peak.saturating_sub(after) > 64 * 1024, "RSS {peak} KiB at the peak, {after} KiB after");
        drop(pin);
    }
}
