//! The evolution fixture (`tests/fixtures/evolution`): a stock service in two versions, where
//! version 2 changes version 1 only in ways that `rpcgen breaking` accepts, and an in-memory server
//! of version 2. Clients generated from version 1 call it: in Rust in `tests/evolution.rs`, in
//! TypeScript and Python through the `stock-v2-server` binary.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use futures::StreamExt as _;
use rpcgen_runtime::{BoxStream, RemoteError};

use v2::stock::{Stock, StockGetError, StockItem, Summary, Unit, Unknown};

/// Version 1 of the stock service: the clients.
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/evolution_v1.rs"));
}

/// Version 2 of the stock service: the server.
pub mod v2 {
    include!(concat!(env!("OUT_DIR"), "/evolution_v2.rs"));
}

/// The shelf of an item stored without one.
pub const DEFAULT_SHELF: &str = "A1";

/// A stock in memory, served with version 2 of the service.
#[derive(Debug, Default)]
pub struct StockV2 {
    items: Mutex<BTreeMap<String, StockItem>>,
}

impl StockV2 {
    fn items(&self) -> MutexGuard<'_, BTreeMap<String, StockItem>> {
        self.items
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Stock for StockV2 {
    async fn add(&self, code: String, count: u32, unit: Unit) -> Result<u32, RemoteError> {
        let per_unit = match unit {
            Unit::Piece => 1,
            Unit::Box => 10,
            Unit::Pallet => 100,
        };
        let too_many = || RemoteError::new("ValueError", format!("too many pieces of `{code}`"));
        let added = count.checked_mul(per_unit).ok_or_else(too_many)?;
        let mut items = self.items();
        let item = items.entry(code.clone()).or_insert_with(|| StockItem {
            sku: code.clone(),
            pieces: 0,
            shelf: Some(DEFAULT_SHELF.into()),
        });
        item.pieces = item.pieces.checked_add(added).ok_or_else(too_many)?;
        Ok(item.pieces)
    }

    async fn get(&self, code: String) -> Result<StockItem, StockGetError> {
        let items = self.items();
        if let Some(item) = items.get(&code) {
            return Ok(item.clone());
        }
        let similar = items
            .keys()
            .filter(|sku| code.starts_with(sku.as_str()) || sku.starts_with(&code))
            .cloned()
            .collect();
        Err(StockGetError::Unknown(Unknown { sku: code, similar }))
    }

    async fn all(
        &self,
        shelf: Option<String>,
    ) -> Result<BoxStream<'static, Result<StockItem, RemoteError>>, RemoteError> {
        let items: Vec<StockItem> = self
            .items()
            .values()
            .filter(|item| shelf.is_none() || item.shelf == shelf)
            .cloned()
            .collect();
        Ok(futures::stream::iter(items.into_iter().map(Ok)).boxed())
    }

    async fn put(&self, mut item: StockItem) -> Result<StockItem, RemoteError> {
        item.shelf.get_or_insert_with(|| DEFAULT_SHELF.into());
        self.items().insert(item.sku.clone(), item.clone());
        Ok(item)
    }

    async fn summary(&self) -> Result<Summary, RemoteError> {
        let items = self.items();
        Ok(Summary {
            items: u32::try_from(items.len()).unwrap_or(u32::MAX),
            pieces: items.values().map(|item| u64::from(item.pieces)).sum(),
        })
    }

    async fn remove(&self, code: String) -> Result<bool, RemoteError> {
        Ok(self.items().remove(&code).is_some())
    }
}
