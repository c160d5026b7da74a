//! The running call center: every subsystem built from the configuration and wired along the
//! path of a call (sip → media → flows → acd → store → api).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use courtyard_acd::{Acd, AcdConfig, AcdHandle, AgentConfig, RequestedState, TokioClock};
use courtyard_flows::{FlowHost, FlowRegistry, HostConfig, Services};
use courtyard_media::PortAllocator;
use courtyard_sip::{AllowList, Endpoint, IpNet, RegistrarEvent, SipConfig, StaticCredentials};
use courtyard_store::Store;
use courtyard_tts::Tts;
use parking_lot::Mutex;

use crate::call::leg::CallLeg;
use crate::config::{Config, RouteEntry};

/// State shared by every call and the API: the subsystems and the live-call table.
pub struct Shared {
    /// The configuration in force.
    pub cfg: Config,
    /// Business data and call records.
    pub store: Arc<Store>,
    /// Speech synthesis and the prompt library.
    pub tts: Arc<Tts>,
    /// Installed flows and their versions.
    pub flows: FlowRegistry,
    /// What operators deployed at run time (persisted packages, active versions, rollouts).
    pub deployments: crate::deployments::Deployments,
    /// The work-order workflow (dispatch, notifications, SLA, 回访) that API transitions use.
    pub workflow: Arc<courtyard_orders::Workflow>,
    /// Capabilities granted to plugins.
    pub services: Services,
    /// SIP endpoint (UAS for callers, UAC to agents, registrar).
    pub sip: Endpoint,
    /// RTP ports.
    pub ports: PortAllocator,
    /// Queues and agents.
    pub acd: AcdHandle,
    /// Live events for the console (ACD events, calls started/ended), as JSON.
    pub events: tokio::sync::broadcast::Sender<serde_json::Value>,
    routes: HashMap<String, RouteEntry>,
    live: Mutex<HashMap<String, Arc<CallLeg>>>,
    draining: AtomicBool,
    rtp_ip: IpAddr,
    /// Where recordings are written.
    pub recordings_dir: PathBuf,
    /// Caller ⇄ agent bridges in progress (supervision, transfers).
    pub agent_calls: crate::call::connect::Connections,
    /// Outbound calling: trunks, dial-plan guard, campaigns (`crate::outbound`).
    pub outbound: crate::outbound::Outbound,
    /// Call records, stored in groups (`crate::call::cdr_writer`).
    pub cdrs: crate::call::cdr_writer::CdrWriter,
}

impl Shared {
    /// Writes an audit-log entry for an operator's, agent's or plugin's action; a store failure
    /// is logged, never fails the action (it has already happened).
    pub async fn audit(&self, actor: &str, action: &str, target: &str, detail: Option<String>) {
        if let Err(e) = self.store.audit(actor, action, target, detail).await {
            tracing::error!(error = %e, action, "audit entry could not be written");
        }
    }

    /// The route for a called number.
    pub fn route(&self, called: &str) -> Option<RouteEntry> {
        self.routes.get(called).cloned()
    }

    /// True once a graceful shutdown started: new calls get 503.
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Starts refusing new calls.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Whether the operator blacklisted this caller in the store.
    pub fn store_blacklisted(&self, caller: &str) -> bool {
        self.store.is_listed(courtyard_store::model::ListKind::Blacklist, caller).unwrap_or(false)
    }

    /// Address written into SDP for our RTP.
    pub fn rtp_ip(&self) -> IpAddr {
        self.rtp_ip
    }

    /// Calls in progress.
    pub fn live_calls(&self) -> Vec<Arc<CallLeg>> {
        self.live.lock().values().cloned().collect()
    }

    /// Adds a call to the live table (API: recording control, live list).
    pub fn live_insert(&self, leg: Arc<CallLeg>) {
        let id = courtyard_flows::CallControl::info(leg.as_ref()).call_id;
        self.live.lock().insert(id, leg);
    }

    /// Removes a finished call from the live table.
    pub fn live_remove(&self, leg: &CallLeg) {
        let id = courtyard_flows::CallControl::info(leg).call_id;
        self.live.lock().remove(&id);
    }

    /// A call in progress by id.
    pub fn live_get(&self, call_id: &str) -> Option<Arc<CallLeg>> {
        self.live.lock().get(call_id).cloned()
    }

    /// A fresh recording id.
    pub fn new_recording_id(&self) -> String {
        format!("rec{}", uuid::Uuid::new_v4().simple())
    }

    /// Where a recording's WAV file goes.
    pub fn recording_path(&self, id: &str) -> PathBuf {
        self.recordings_dir.join(format!("{id}.wav"))
    }
}

/// A started call center; dropping it does not stop the tasks (call [`App::shutdown`]).
pub struct App {
    /// Shared state.
    pub shared: Arc<Shared>,
    /// Actual SIP address.
    pub sip_addr: SocketAddr,
    /// Actual HTTP address.
    pub http_addr: SocketAddr,
}

/// Builds and starts everything. `plugins_dir` holds the components named by `[[flow]] wasm`.
pub async fn start(cfg: Config, plugins_dir: &Path, demo: Option<crate::demo::Hours>) -> anyhow::Result<App> {
    let data = cfg.data.dir.clone();
    std::fs::create_dir_all(&data).with_context(|| format!("cannot create data dir {}", data.display()))?;
    let recordings_dir = data.join("recordings");
    std::fs::create_dir_all(&recordings_dir)?;

    // store
    let store_opts = courtyard_store::StoreOptions { cache_bytes: cfg.data.store_cache_mb * 1024 * 1024, ..Default::default() };
    let store = Arc::new(Store::open_with(&data.join("db"), store_opts).with_context(|| format!("cannot open the store in {}", data.display()))?);
    let interrupted = store.mark_interrupted_calls(store.now()).await.unwrap_or(0);
    if interrupted > 0 {
        tracing::warn!(interrupted, "calls in progress at the last stop were marked interrupted");
    }
    if let Some(hours) = demo {
        crate::demo::seed(&store, hours).await?;
    }

    // work orders after the call: dispatch, notification delivery, SLA escalation, callbacks
    let offset = store.now().timezone();
    let orders = courtyard_orders::Workflow::start(
        store.clone(),
        cfg.orders.clone(),
        Arc::new(courtyard_store::SystemClock(offset)),
    )
    .map_err(|e| anyhow::anyhow!("[orders]: {e}"))?;
    // API transitions go through the same workflow (see `http::RuntimeHooks::order_transition`).
    let workflow = orders.workflow();
    // Kept for the life of the process; the background loops stop with it.
    std::mem::forget(orders);

    // tts
    let tts = Arc::new(Tts::espeak(&data).context("cannot start espeak-ng TTS (install espeak-ng and libespeak-ng-dev)")?);

    // flows
    let host = FlowHost::new(HostConfig {
        max_concurrent_instances: cfg.plugins.max_instances,
        max_memory_bytes: 256 << 20,
        cache_dir: Some(data.join("plugin-cache")),
        crash_loop_threshold: cfg.plugins.crash_loop_threshold,
        ..HostConfig::default()
    })?;
    let flows = FlowRegistry::new(host);
    for f in &cfg.flows {
        crate::flows::install(&flows, f, plugins_dir, cfg.plugins.memory_mib)
            .await
            .with_context(|| format!("flow '{}'", f.name))?;
    }
    // Packages installed, activated or rolled out over the API before a restart come back.
    let deployments = crate::deployments::Deployments::open(&data)?;
    for problem in deployments.restore(&flows, &cfg).await {
        tracing::error!(%problem, "a deployed flow version could not be restored; the configured one serves");
    }
    let services = crate::services::services(store.clone(), format!("http://{}/pay", cfg.http.listen));

    // sip
    let creds = Arc::new(StaticCredentials::from_pairs(cfg.agents.iter().map(|a| (a.extension.clone(), a.password.clone()))));
    let mut trusted = Vec::new();
    for t in &cfg.sip.trusted_sources {
        trusted.push(t.parse::<IpNet>().map_err(|e| anyhow::anyhow!("[sip] trusted_sources '{t}': {e}"))?);
    }
    let policy = AllowList { trusted, blacklist: cfg.sip.blacklist.clone(), ..AllowList::default() };
    let listen = cfg.sip.listen;
    let rtp_ip = match (&cfg.sip.public_host, listen.ip()) {
        (Some(h), _) => h.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        (None, ip) if ip.is_unspecified() => local_ip_guess(),
        (None, ip) => ip,
    };
    let mut registrar = courtyard_sip::RegistrarConfig::default();
    registrar.algorithms = crate::call::agent::digest_algorithms(&cfg.sip.digest_algorithms)?;
    let sip_cfg = SipConfig {
        registrar,
        udp: listen,
        tcp: Some(listen),
        public_host: Some(cfg.sip.public_host.clone().unwrap_or_else(|| rtp_ip.to_string())),
        realm: cfg.sip.realm.clone(),
        caller_policy: Arc::new(policy),
        observer: Some(crate::trace::watch()),
        ..SipConfig::default()
    };
    let (sip, mut incoming) = Endpoint::bind(sip_cfg, creds).await.with_context(|| format!("cannot bind SIP on {listen}"))?;
    let sip_addr = sip.local_addr();

    // media
    crate::media_rt::configure(cfg.media.threads, cfg.media.priority);
    let media_ip = if listen.ip().is_unspecified() { IpAddr::V4(Ipv4Addr::UNSPECIFIED) } else { listen.ip() };
    let ports = if cfg.media.rtp_ports_any() {
        PortAllocator::any(media_ip)
    } else {
        PortAllocator::new(media_ip, cfg.media.rtp_port_min..=cfg.media.rtp_port_max)
    };

    // acd
    let acd_cfg = AcdConfig {
        queues: cfg.queues.clone(),
        agents: cfg
            .agents
            .iter()
            .map(|a| AgentConfig {
                id: a.extension.clone(),
                name: if a.name.is_empty() { a.extension.clone() } else { a.name.clone() },
                skills: a.skills.clone(),
                wrap_up_secs: None,
            })
            .collect(),
        ..AcdConfig::default()
    };
    let dialer = Arc::new(crate::call::agent::SipDialer::new(sip.clone(), ports.clone(), rtp_ip));
    let agent_calls = crate::call::connect::Connections::default();
    let supervisor = crate::supervise::Supervisor::new(sip.clone(), ports.clone(), rtp_ip, agent_calls.clone());
    let acd = Acd::spawn(acd_cfg, TokioClock::new(), dialer, Arc::new(supervisor))?;

    let routes = cfg.routes.iter().map(|r| (r.number.clone(), r.clone())).collect();
    let (events, _) = tokio::sync::broadcast::channel::<serde_json::Value>(1024);
    {
        // Every ACD event goes to the console (screen-pop on offer_started, wallboard updates).
        let mut rx = acd.subscribe();
        let events = events.clone();
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(ev) => {
                        if let Ok(v) = serde_json::to_value(&ev) {
                            let _ = events.send(v);
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "console event stream lagged");
                    }
                    Err(_) => break,
                }
            }
        });
    }
    let cdrs = crate::call::cdr_writer::CdrWriter::start(store.clone());
    let shared = Arc::new(Shared {
        cfg: cfg.clone(),
        store,
        tts,
        flows,
        deployments,
        workflow,
        services,
        sip: sip.clone(),
        ports,
        acd: acd.clone(),
        events,
        routes,
        live: Mutex::new(HashMap::new()),
        draining: AtomicBool::new(false),
        rtp_ip,
        recordings_dir,
        agent_calls,
        outbound: crate::outbound::Outbound::new(&cfg)?,
        cdrs,
    });
    crate::outbound::start(&shared);

    // Agents' phones: registering logs the agent in and makes them ready (demo-friendly default).
    if cfg.sip.agent_login_on_register {
        let mut reg = sip.registrar().subscribe();
        let acd = acd.clone();
        let agents: Vec<String> = cfg.agents.iter().map(|a| a.extension.clone()).collect();
        tokio::spawn(async move {
            while let Ok(ev) = reg.recv().await {
                match ev {
                    RegistrarEvent::Registered { user, .. } if agents.contains(&user) => {
                        if acd.agent_login(&user, &user).await.is_ok() {
                            let _ = acd.set_state(&user, RequestedState::Ready).await;
                            tracing::info!(agent = %user, "agent phone registered: logged in and ready");
                        }
                    }
                    RegistrarEvent::Unregistered { user, .. } if agents.contains(&user) => {
                        let _ = acd.agent_logout(&user).await;
                        tracing::info!(agent = %user, "agent phone unregistered: logged out");
                    }
                    _ => {}
                }
            }
        });
    }

    // api
    let listener = tokio::net::TcpListener::bind(cfg.http.listen)
        .await
        .with_context(|| format!("cannot bind HTTP on {}", cfg.http.listen))?;
    let http_addr = listener.local_addr()?;
    let router = crate::http::router(shared.clone(), shared.recordings_dir.clone());
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "HTTP server stopped");
        }
    });

    // calls
    {
        let shared = shared.clone();
        tokio::spawn(async move {
            while let Some(call) = incoming.recv().await {
                tokio::spawn(crate::call::inbound::handle(shared.clone(), call));
            }
        });
    }
    tracing::info!(%sip_addr, %http_addr, flows = cfg.flows.len(), "courtyard is taking calls");
    Ok(App { shared, sip_addr, http_addr })
}

impl App {
    /// Graceful stop: refuse new calls, let calls in progress finish (up to `grace`), flush.
    pub async fn shutdown(&self, grace: std::time::Duration) {
        self.shared.start_draining();
        crate::outbound::shutdown(&self.shared).await;
        let deadline = tokio::time::Instant::now() + grace;
        while !self.shared.live_calls().is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        for leg in self.shared.live_calls() {
            courtyard_flows::CallControl::hangup(leg.as_ref()).await;
        }
        let _ = self.shared.store.flush().await;
        self.shared.sip.shutdown();
    }
}

/// The machine's outbound IP (no packet is sent: connecting a UDP socket only picks a route),
/// falling back to loopback.
fn local_ip_guess() -> IpAddr {
    std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| {
            s.connect("192.0.2.1:9")?;
            s.local_addr()
        })
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}
