//! Persistence of campaign progress behind a small trait, so a restart resumes a campaign where
//! it stood (nobody is called twice for an attempt already recorded). [`MemoryStore`] serves
//! tests and store-less runs; the runtime plugs in its sled-backed store.

use std::collections::BTreeMap;

use parking_lot::Mutex;

use crate::error::CampaignError;
use crate::result::CampaignSnapshot;

/// Where campaign snapshots live. Called from the scheduler after every state change; keep it
/// quick (a single durable key/value write).
pub trait CampaignStore: Send + Sync + 'static {
    /// Replace the snapshot of `snapshot.config.id`.
    fn save(&self, snapshot: &CampaignSnapshot) -> Result<(), CampaignError>;
    /// The last snapshot of a campaign, if any.
    fn load(&self, campaign_id: &str) -> Result<Option<CampaignSnapshot>, CampaignError>;
    /// Every stored campaign (for the API's campaign list).
    fn list(&self) -> Result<Vec<CampaignSnapshot>, CampaignError>;
}

/// Snapshots kept in memory (tests, demos).
#[derive(Debug, Default)]
pub struct MemoryStore {
    map: Mutex<BTreeMap<String, String>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl CampaignStore for MemoryStore {
    fn save(&self, snapshot: &CampaignSnapshot) -> Result<(), CampaignError> {
        // Stored serialized, like a real store, so a test catches snapshots that do not round-trip.
        let json = serde_json::to_string(snapshot).map_err(|e| CampaignError::Store(e.to_string()))?;
        self.map.lock().insert(snapshot.config.id.clone(), json);
        Ok(())
    }

    fn load(&self, campaign_id: &str) -> Result<Option<CampaignSnapshot>, CampaignError> {
        let json = self.map.lock().get(campaign_id).cloned();
        json.map(|j| serde_json::from_str(&j).map_err(|e| CampaignError::Store(e.to_string()))).transpose()
    }

    fn list(&self) -> Result<Vec<CampaignSnapshot>, CampaignError> {
        let all: Vec<String> = self.map.lock().values().cloned().collect();
        all.iter().map(|j| serde_json::from_str(j).map_err(|e| CampaignError::Store(e.to_string()))).collect()
    }
}
