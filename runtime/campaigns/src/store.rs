//! Persistence of campaign progress behind a small trait, so a restart resumes a campaign where
//! it stood and nobody is called twice for an attempt already recorded.
//!
//! Writes are split by how often they happen: the campaign record (config, paused, cancelled)
//! on start and on operator commands; one record per target whenever that target changes (a
//! call starts or ends); the small progress record after each change. A 10,000-target campaign
//! therefore writes a few hundred bytes per event, not the whole list. A target's `dialling`
//! state is persisted *before* its INVITE is sent, so a crash mid-call is seen on restart.
//!
//! [`MemoryStore`] serves tests and store-less runs; [`SledCampaignStore`] keeps the records in
//! the runtime's `courtyard-store` under `cmp/` (campaign), `cmpt/` (targets) and `cmpp/`
//! (progress).

use std::collections::BTreeMap;
use std::sync::Arc;

use courtyard_store::model::Record;
use courtyard_store::{PlainRecord, Store};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::campaign::CampaignConfig;
use crate::clock::BoxFuture;
use crate::error::CampaignError;
use crate::result::{CampaignSnapshot, Progress, TargetRecord};

/// The operator-controlled part of a campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCampaign {
    /// The campaign as configured.
    pub config: CampaignConfig,
    /// Paused by the operator.
    pub paused: bool,
    /// Cancelled by the operator.
    pub cancelled: bool,
}

/// Where campaign state lives. The scheduler awaits each write before it places the next call.
pub trait CampaignStore: Send + Sync + 'static {
    /// Replace the campaign record (config and operator flags).
    fn save_campaign<'a>(&'a self, campaign: &'a StoredCampaign) -> BoxFuture<'a, Result<(), CampaignError>>;
    /// Replace one target's record.
    fn save_target<'a>(&'a self, campaign_id: &'a str, target: &'a TargetRecord) -> BoxFuture<'a, Result<(), CampaignError>>;
    /// Replace the campaign's progress summary.
    fn save_progress<'a>(&'a self, progress: &'a Progress) -> BoxFuture<'a, Result<(), CampaignError>>;
    /// Everything stored about a campaign, if it exists.
    fn load(&self, campaign_id: &str) -> Result<Option<CampaignSnapshot>, CampaignError>;
    /// Last progress of every stored campaign (the API's campaign list).
    fn list(&self) -> Result<Vec<Progress>, CampaignError>;
}

fn enc<T: Serialize>(v: &T) -> Result<String, CampaignError> {
    serde_json::to_string(v).map_err(|e| CampaignError::Store(e.to_string()))
}
fn dec<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, CampaignError> {
    serde_json::from_str(s).map_err(|e| CampaignError::Store(e.to_string()))
}

/// Campaign state kept in memory (tests, demos). Values are stored serialized, like a real
/// store, so a test catches records that do not round-trip.
#[derive(Debug, Default)]
pub struct MemoryStore {
    campaigns: Mutex<BTreeMap<String, String>>,
    targets: Mutex<BTreeMap<(String, String), String>>,
    progress: Mutex<BTreeMap<String, String>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl CampaignStore for MemoryStore {
    fn save_campaign<'a>(&'a self, c: &'a StoredCampaign) -> BoxFuture<'a, Result<(), CampaignError>> {
        Box::pin(async move {
            self.campaigns.lock().insert(c.config.id.clone(), enc(c)?);
            Ok(())
        })
    }

    fn save_target<'a>(&'a self, campaign_id: &'a str, t: &'a TargetRecord) -> BoxFuture<'a, Result<(), CampaignError>> {
        Box::pin(async move {
            self.targets.lock().insert((campaign_id.to_string(), t.target_id.clone()), enc(t)?);
            Ok(())
        })
    }

    fn save_progress<'a>(&'a self, p: &'a Progress) -> BoxFuture<'a, Result<(), CampaignError>> {
        Box::pin(async move {
            self.progress.lock().insert(p.campaign_id.clone(), enc(p)?);
            Ok(())
        })
    }

    fn load(&self, campaign_id: &str) -> Result<Option<CampaignSnapshot>, CampaignError> {
        let Some(c) = self.campaigns.lock().get(campaign_id).cloned() else { return Ok(None) };
        let c: StoredCampaign = dec(&c)?;
        let targets: Vec<String> =
            self.targets.lock().iter().filter(|((cid, _), _)| cid == campaign_id).map(|(_, v)| v.clone()).collect();
        let targets = targets.iter().map(|t| dec(t)).collect::<Result<Vec<TargetRecord>, _>>()?;
        let progress = self.progress.lock().get(campaign_id).cloned().map(|p| dec(&p)).transpose()?;
        Ok(Some(CampaignSnapshot { config: c.config, paused: c.paused, cancelled: c.cancelled, targets, progress }))
    }

    fn list(&self) -> Result<Vec<Progress>, CampaignError> {
        let all: Vec<String> = self.progress.lock().values().cloned().collect();
        all.iter().map(|p| dec(p)).collect()
    }
}

/// [`StoredCampaign`] as a `courtyard-store` record (`cmp/<campaign>`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CampaignRow(pub StoredCampaign);
impl Record for CampaignRow {
    const PREFIX: &'static str = "cmp/";
    fn key(&self) -> String {
        self.0.config.id.clone()
    }
}
impl PlainRecord for CampaignRow {}

/// A [`TargetRecord`] as a `courtyard-store` record (`cmpt/<campaign>/<target>`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetRow {
    /// Campaign the target belongs to.
    pub campaign_id: String,
    /// The record.
    pub record: TargetRecord,
}
impl Record for TargetRow {
    const PREFIX: &'static str = "cmpt/";
    fn key(&self) -> String {
        format!("{}/{}", self.campaign_id, self.record.target_id)
    }
}
impl PlainRecord for TargetRow {}

/// [`Progress`] as a `courtyard-store` record (`cmpp/<campaign>`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProgressRow(pub Progress);
impl Record for ProgressRow {
    const PREFIX: &'static str = "cmpp/";
    fn key(&self) -> String {
        self.0.campaign_id.clone()
    }
}
impl PlainRecord for ProgressRow {}

/// Campaign state in the runtime's sled store; each write returns after the store's durability
/// barrier ([`Store::put`]).
#[derive(Clone)]
pub struct SledCampaignStore {
    store: Arc<Store>,
}

impl SledCampaignStore {
    /// Wrap the runtime's store.
    pub fn new(store: Arc<Store>) -> Self {
        SledCampaignStore { store }
    }
}

fn st(e: courtyard_store::StoreError) -> CampaignError {
    CampaignError::Store(e.to_string())
}

impl CampaignStore for SledCampaignStore {
    fn save_campaign<'a>(&'a self, c: &'a StoredCampaign) -> BoxFuture<'a, Result<(), CampaignError>> {
        Box::pin(async move { self.store.put(&CampaignRow(c.clone())).await.map_err(st) })
    }

    fn save_target<'a>(&'a self, campaign_id: &'a str, t: &'a TargetRecord) -> BoxFuture<'a, Result<(), CampaignError>> {
        let row = TargetRow { campaign_id: campaign_id.to_string(), record: t.clone() };
        Box::pin(async move { self.store.put(&row).await.map_err(st) })
    }

    fn save_progress<'a>(&'a self, p: &'a Progress) -> BoxFuture<'a, Result<(), CampaignError>> {
        Box::pin(async move { self.store.put(&ProgressRow(p.clone())).await.map_err(st) })
    }

    fn load(&self, campaign_id: &str) -> Result<Option<CampaignSnapshot>, CampaignError> {
        let Some(CampaignRow(c)) = self.store.get::<CampaignRow>(campaign_id).map_err(st)? else { return Ok(None) };
        let sub = format!("{campaign_id}/");
        let targets = self.store.list_under::<TargetRow>(&sub, |_| true, 0, usize::MAX, false).map_err(st)?.items;
        let progress = self.store.get::<ProgressRow>(campaign_id).map_err(st)?.map(|p| p.0);
        Ok(Some(CampaignSnapshot {
            config: c.config,
            paused: c.paused,
            cancelled: c.cancelled,
            targets: targets.into_iter().map(|t| t.record).collect(),
            progress,
        }))
    }

    fn list(&self) -> Result<Vec<Progress>, CampaignError> {
        Ok(self.store.list::<ProgressRow>(|_| true, 0, usize::MAX).map_err(st)?.items.into_iter().map(|p| p.0).collect())
    }
}
