//! Runtime configuration: one TOML file plus environment overrides.
//!
//! Every key is documented in `docs/configuration.md`. The demo uses `examples/demo/courtyard.toml`
//! (compiled into the binary), with `--sip`, `--http` and `--data` overriding its addresses.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The whole configuration document.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// SIP signalling.
    #[serde(default)]
    pub sip: SipSection,
    /// RTP media.
    #[serde(default)]
    pub media: MediaSection,
    /// HTTP API and console.
    #[serde(default)]
    pub http: HttpSection,
    /// Where data lives on disk.
    #[serde(default)]
    pub data: DataSection,
    /// Text-to-speech.
    #[serde(default)]
    pub tts: TtsSection,
    /// Plugin host limits.
    #[serde(default)]
    pub plugins: PluginsSection,
    /// Call recording.
    #[serde(default)]
    pub recording: RecordingSection,
    /// Call flows installed at start, by flow name.
    #[serde(default, rename = "flow")]
    pub flows: Vec<FlowEntry>,
    /// Called number → flow routes.
    #[serde(default, rename = "route")]
    pub routes: Vec<RouteEntry>,
    /// Agent SIP accounts (extension, password) allowed to REGISTER.
    #[serde(default, rename = "agent")]
    pub agents: Vec<AgentEntry>,
    /// Work orders after the call: dispatch table, notification channels, SLA ladder, callbacks
    /// (every key in `docs/work-orders.md`).
    #[serde(default)]
    pub orders: courtyard_orders::OrdersConfig,
    /// Wrap-up (话后) codes an agent picks after a call, stored on the call record.
    #[serde(default = "crate::acd_api::default_wrapup_codes")]
    pub wrapup_codes: Vec<String>,
    /// ACD queues (see `docs/acd.md` for every key: strategy, ring timeout, max wait, overflow,
    /// sticky agent, announcements, service-level threshold).
    #[serde(default, rename = "queue")]
    pub queues: Vec<courtyard_acd::QueueConfig>,
    /// Concurrent-call limits per caller number and per source address (`crate::limits`).
    #[serde(default)]
    pub limits: crate::limits::LimitsSection,
    /// SIP trunks for outbound calls (campaigns, click-to-call, external transfers).
    #[serde(default, rename = "trunk")]
    pub trunks: Vec<crate::outbound::trunk::TrunkConfig>,
    /// Destinations that may be dialled out (toll-fraud guard).
    #[serde(default)]
    pub dialplan: crate::outbound::guard::DialPlanConfig,
}

/// `[sip]`: where and how SIP is spoken.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SipSection {
    /// UDP and TCP listen address.
    pub listen: SocketAddr,
    /// Host name or IP put in Contact/Via and SDP when `listen` is a wildcard.
    pub public_host: Option<String>,
    /// Digest realm for REGISTER.
    pub realm: String,
    /// Source IPs allowed to send INVITEs without authenticating (trunks); loopback in the demo.
    pub trusted_sources: Vec<String>,
    /// Caller numbers refused with 403.
    pub blacklist: Vec<String>,
    /// An agent's phone registering logs the agent in and makes them ready (unregistering logs
    /// them out); turn off when agents log in from the console.
    pub agent_login_on_register: bool,
    /// Digest algorithms challenged on REGISTER, one challenge each, in this order ("MD5",
    /// "SHA-256"). MD5 only by default: libre-based phones (baresip ≤ 1.x) abort the whole
    /// registration when any challenge names an algorithm they lack.
    pub digest_algorithms: Vec<String>,
}

impl Default for SipSection {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:5060".parse().expect("static address"),
            public_host: None,
            realm: "courtyard".into(),
            trusted_sources: vec!["127.0.0.0/8".into(), "::1/128".into()],
            blacklist: Vec::new(),
            agent_login_on_register: true,
            digest_algorithms: vec!["MD5".into()],
        }
    }
}

/// `[media]`: RTP sockets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaSection {
    /// First RTP port (even). `rtp_port_min = rtp_port_max = 0`: any free even port the OS
    /// hands out (no firewall range to keep to; tests running several runtimes side by side).
    pub rtp_port_min: u16,
    /// Last RTP port.
    pub rtp_port_max: u16,
    /// Media threads of their own for RTP, each a single-threaded runtime (0 = share the main
    /// runtime).
    pub threads: usize,
    /// Scheduling priority of the media threads.
    pub priority: crate::media_rt::MediaPriority,
    /// New inbound calls are refused (503) while every media thread's load (share of the last
    /// second spent ticking legs) is at or above this; 0 = never refuse. Calls in progress keep
    /// clean audio instead of every call degrading together.
    pub max_load: f64,
}

impl MediaSection {
    /// Whether RTP ports are left to the OS (`rtp_port_min = rtp_port_max = 0`).
    pub fn rtp_ports_any(&self) -> bool {
        self.rtp_port_min == 0 && self.rtp_port_max == 0
    }

    /// Parses `COURTYARD_RTP_PORTS`: `MIN-MAX`, or `any` for ports the OS chooses.
    fn parse_rtp_ports(v: &str) -> Result<(u16, u16), String> {
        if v.trim().eq_ignore_ascii_case("any") {
            return Ok((0, 0));
        }
        let (lo, hi) = v.split_once('-').ok_or("expected MIN-MAX (e.g. 20000-29999) or any")?;
        let port = |p: &str| p.trim().parse::<u16>().map_err(|e| format!("'{}': {e}", p.trim()));
        Ok((port(lo)?, port(hi)?))
    }
}

impl Default for MediaSection {
    fn default() -> Self {
        Self {
            rtp_port_min: 20000,
            rtp_port_max: 29999,
            threads: crate::media_rt::default_threads(),
            priority: crate::media_rt::MediaPriority::High,
            max_load: crate::media_rt::DEFAULT_MAX_LOAD,
        }
    }
}

/// `[http]`: API and console.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSection {
    /// Listen address of the HTTP API and web console.
    pub listen: SocketAddr,
}

impl Default for HttpSection {
    fn default() -> Self {
        Self { listen: "127.0.0.1:8080".parse().expect("static address") }
    }
}

/// `[data]`: on-disk state.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataSection {
    /// Directory holding the database, recordings, TTS cache and compiled plugins.
    pub dir: PathBuf,
    /// Most memory (MiB) the database's page cache may hold; a node's RSS levels off with it.
    pub store_cache_mb: u64,
}

impl Default for DataSection {
    fn default() -> Self {
        Self { dir: PathBuf::from("./demo-data"), store_cache_mb: courtyard_store::DEFAULT_CACHE_BYTES / (1024 * 1024) }
    }
}

/// `[tts]`: speech synthesis.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TtsSection {
    /// Default prompt language: "zh" or "en".
    pub language: String,
    /// Directory of the operator's recorded prompts (`<key>.wav`), overriding TTS per key.
    pub prompt_dir: Option<PathBuf>,
}

impl Default for TtsSection {
    fn default() -> Self {
        Self { language: "zh".into(), prompt_dir: None }
    }
}

/// `[plugins]`: sandbox limits for every flow instance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginsSection {
    /// Linear memory cap per instance, MiB.
    pub memory_mib: u64,
    /// Most instances alive at once (≈ concurrent calls in flows).
    pub max_instances: u32,
    /// Consecutive failed calls of a fresh version that trigger automatic rollback.
    pub crash_loop_threshold: u32,
}

impl Default for PluginsSection {
    fn default() -> Self {
        Self { memory_mib: 32, max_instances: 1000, crash_loop_threshold: 5 }
    }
}

/// `[recording]`: whole-call recording policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordingSection {
    /// Record every answered inbound call.
    pub enabled: bool,
    /// Notice played before recording starts.
    pub notice: String,
}

impl Default for RecordingSection {
    fn default() -> Self {
        Self { enabled: true, notice: "为保证服务质量,您的通话可能会被录音".into() }
    }
}

/// `[[flow]]`: a flow name bound to a plugin component and its configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowEntry {
    /// Flow name used by routes.
    pub name: String,
    /// Path of the component (`.wasm`), relative to the plugins directory.
    pub wasm: PathBuf,
    /// Plugin configuration (any TOML table; passed to the plugin as JSON).
    #[serde(default)]
    pub config: Option<toml::Value>,
    /// Interfaces granted; all `courtyard:flow` interfaces when absent.
    #[serde(default)]
    pub grants: Option<Vec<String>>,
    /// Interfaces the component imports but never calls (a Python or JavaScript flow imports
    /// every interface): linked as functions that trap instead of being granted.
    #[serde(default)]
    pub unused_imports: Vec<String>,
    /// What happens to the caller when the plugin fails mid-call (apology, then a queue or a
    /// fallback flow); the default apologises and enqueues to "default".
    #[serde(default)]
    pub failure: courtyard_flows::FailurePolicy,
}

/// `[[route]]`: called number → flow.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteEntry {
    /// Called number (request-URI user part).
    pub number: String,
    /// Flow name.
    pub flow: String,
    /// Estate the number belongs to, passed to the flow.
    #[serde(default)]
    pub estate_id: Option<String>,
}

/// `[[agent]]`: an agent's SIP account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentEntry {
    /// Extension / SIP user name, e.g. "8001".
    pub extension: String,
    /// SIP digest password.
    pub password: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Queues this agent serves, with skill level 1–10 (higher is better).
    #[serde(default)]
    pub skills: BTreeMap<String, u8>,
}

/// The demo configuration compiled into the binary.
pub const DEMO_CONFIG: &str = include_str!("../../../examples/demo/courtyard.toml");

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// Path given.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// TOML syntax or an unknown/mistyped key.
    #[error("config {origin}: {message}")]
    Parse {
        /// File name or "demo".
        origin: String,
        /// What is wrong and where.
        message: String,
    },
    /// The document parses but is inconsistent.
    #[error("config: {0}")]
    Invalid(String),
    /// An environment override has a bad value.
    #[error("environment {var}={value:?}: {message}")]
    Env {
        /// Variable name.
        var: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        message: String,
    },
}

impl Config {
    /// Parses a TOML document; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let cfg: Config = toml::from_str(text)
            .map_err(|e| ConfigError::Parse { origin: origin.into(), message: e.to_string() })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads and parses a TOML file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.into(), source })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Applies `COURTYARD_SIP_LISTEN`, `COURTYARD_HTTP_LISTEN`, `COURTYARD_DATA_DIR`,
    /// `COURTYARD_MEDIA_THREADS`, `COURTYARD_MEDIA_PRIORITY`, `COURTYARD_MEDIA_MAX_LOAD`,
    /// `COURTYARD_RTP_PORTS`, `COURTYARD_STORE_CACHE_MB`, then validates the result.
    pub fn apply_env(&mut self) -> Result<(), ConfigError> {
        if let Ok(v) = std::env::var("COURTYARD_SIP_LISTEN") {
            self.sip.listen = v.parse().map_err(|e: std::net::AddrParseError| ConfigError::Env {
                var: "COURTYARD_SIP_LISTEN",
                value: v.clone(),
                message: e.to_string(),
            })?;
        }
        if let Ok(v) = std::env::var("COURTYARD_HTTP_LISTEN") {
            self.http.listen = v.parse().map_err(|e: std::net::AddrParseError| ConfigError::Env {
                var: "COURTYARD_HTTP_LISTEN",
                value: v.clone(),
                message: e.to_string(),
            })?;
        }
        if let Ok(v) = std::env::var("COURTYARD_DATA_DIR") {
            self.data.dir = PathBuf::from(v);
        }
        if let Ok(v) = std::env::var("COURTYARD_MEDIA_THREADS") {
            self.media.threads = v.parse().map_err(|e: std::num::ParseIntError| ConfigError::Env {
                var: "COURTYARD_MEDIA_THREADS",
                value: v.clone(),
                message: e.to_string(),
            })?;
        }
        if let Ok(v) = std::env::var("COURTYARD_RTP_PORTS") {
            (self.media.rtp_port_min, self.media.rtp_port_max) = MediaSection::parse_rtp_ports(&v)
                .map_err(|message| ConfigError::Env { var: "COURTYARD_RTP_PORTS", value: v.clone(), message })?;
        }
        if let Ok(v) = std::env::var("COURTYARD_MEDIA_MAX_LOAD") {
            self.media.max_load = v.parse().map_err(|e: std::num::ParseFloatError| ConfigError::Env {
                var: "COURTYARD_MEDIA_MAX_LOAD",
                value: v.clone(),
                message: e.to_string(),
            })?;
        }
        if let Ok(v) = std::env::var("COURTYARD_STORE_CACHE_MB") {
            self.data.store_cache_mb = v.parse().map_err(|e: std::num::ParseIntError| ConfigError::Env {
                var: "COURTYARD_STORE_CACHE_MB",
                value: v.clone(),
                message: e.to_string(),
            })?;
        }
        if let Ok(v) = std::env::var("COURTYARD_MEDIA_PRIORITY") {
            self.media.priority = crate::media_rt::MediaPriority::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(&v))
                .map_err(|e| ConfigError::Env { var: "COURTYARD_MEDIA_PRIORITY", value: v.clone(), message: e.to_string() })?;
        }
        // What the environment set is held to the same rules as the file.
        self.validate()
    }

    /// Cross-checks routes, flows and queues.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.data.store_cache_mb == 0 {
            return Err(ConfigError::Invalid("[data] store_cache_mb must be at least 1".into()));
        }
        if !(0.0..=1.0).contains(&self.media.max_load) {
            return Err(ConfigError::Invalid(format!(
                "[media] max_load = {} must be between 0 (never refuse calls) and 1",
                self.media.max_load
            )));
        }
        if self.media.rtp_ports_any() {
            // The OS chooses.
        } else if self.media.rtp_port_min >= self.media.rtp_port_max {
            return Err(ConfigError::Invalid(format!(
                "[media] rtp_port_min {} must be below rtp_port_max {}",
                self.media.rtp_port_min, self.media.rtp_port_max
            )));
        }
        let mut names = std::collections::HashSet::new();
        for f in &self.flows {
            if !names.insert(f.name.as_str()) {
                return Err(ConfigError::Invalid(format!("[[flow]] '{}' is defined twice", f.name)));
            }
        }
        let mut numbers = std::collections::HashSet::new();
        for r in &self.routes {
            if !names.contains(r.flow.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "[[route]] {} points at flow '{}', which no [[flow]] defines",
                    r.number, r.flow
                )));
            }
            if !numbers.insert(r.number.as_str()) {
                return Err(ConfigError::Invalid(format!("[[route]] number {} is routed twice", r.number)));
            }
        }
        let mut queues = std::collections::HashSet::new();
        for q in &self.queues {
            if q.name.is_empty() || !queues.insert(q.name.as_str()) {
                return Err(ConfigError::Invalid(format!("[[queue]] name '{}' is empty or defined twice", q.name)));
            }
        }
        crate::outbound::validate_config(self).map_err(ConfigError::Invalid)?;
        for a in &self.agents {
            if a.extension.is_empty() || !a.extension.chars().all(|c| c.is_ascii_digit()) {
                return Err(ConfigError::Invalid(format!(
                    "[[agent]] extension '{}' must be digits",
                    a.extension
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_config_is_valid() {
        let cfg = Config::parse(DEMO_CONFIG, "demo").expect("demo config parses");
        assert!(cfg.routes.iter().any(|r| r.number == "4008123456"));
        assert_eq!(cfg.agents.len(), 5);
    }

    #[test]
    fn route_to_unknown_flow_is_refused_with_its_name() {
        let err = Config::parse("[[route]]\nnumber = \"1\"\nflow = \"nope\"\n", "t").unwrap_err();
        assert!(err.to_string().contains("'nope'"), "{err}");
    }

    #[test]
    fn rtp_ports_are_a_range_or_left_to_the_os() {
        let any = Config::parse("[media]\nrtp_port_min = 0\nrtp_port_max = 0\n", "t").expect("0/0 = any port");
        assert!(any.media.rtp_ports_any());
        let err = Config::parse("[media]\nrtp_port_min = 30000\nrtp_port_max = 20000\n", "t").unwrap_err();
        assert!(err.to_string().contains("rtp_port_min 30000 must be below"), "{err}");
        assert_eq!(MediaSection::parse_rtp_ports("any"), Ok((0, 0)));
        assert_eq!(MediaSection::parse_rtp_ports("40000-40999"), Ok((40000, 40999)));
        assert!(MediaSection::parse_rtp_ports("40000").unwrap_err().contains("MIN-MAX"));
        assert!(MediaSection::parse_rtp_ports("4x-5").unwrap_err().contains("'4x'"));
    }

    #[test]
    fn unknown_key_is_refused() {
        let err = Config::parse("[sip]\nlisten_typo = 1\n", "t").unwrap_err();
        assert!(err.to_string().contains("listen_typo"), "{err}");
    }
}
