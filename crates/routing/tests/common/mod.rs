//! Shared helpers for the routing integration tests: loading configs, dry-run requests, a fake
//! DNS that answers from a table, and golden files.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use causeway_policy::SourceText;
use causeway_routing::config::{self, DisplayErrors};
use causeway_routing::resolve::{DnsAnswer, QueryKind};
use causeway_routing::{auth, classify, Authentication, HealthSnapshot, Resolution, ResolveStep, RoutingTable, ZoneClassified, ZoneTarget};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// The shipped example.
pub(crate) const EXAMPLE: &str = include_str!("../../../../examples/routing/expressway.toml");

/// Compiles `src` or fails the test with every located error.
pub(crate) fn load(src: &str) -> RoutingTable {
    match config::load(src) {
        Ok(t) => t,
        Err(errors) => panic!("{}", DisplayErrors { errors: &errors, source: SourceText::new("test.toml", src) }),
    }
}

/// Whether `src` compiles.
pub(crate) fn load_ok(src: &str) -> bool {
    config::load(src).is_ok()
}

/// The located errors of a config that must not load.
pub(crate) fn errors(src: &str) -> Vec<String> {
    match config::load(src) {
        Ok(_) => panic!("config loaded but should not:\n{src}"),
        Err(errors) => errors.iter().map(|e| e.display_in(SourceText::new("test.toml", src))).collect(),
    }
}

/// A dry-run source: the request is taken to come from `zone`, authenticated or not.
pub(crate) fn from_zone(table: &RoutingTable, zone: &str, authenticated: bool) -> (ZoneClassified, Authentication) {
    let Some(classified) = classify::assume(table, zone) else { panic!("no zone {zone}") };
    let authentication = auth::assume(&classified, table, authenticated);
    (classified, authentication)
}

/// DNS answers by (name, type); anything else has no records.
#[derive(Default)]
pub(crate) struct FakeDns {
    answers: HashMap<(String, QueryKind), DnsAnswer>,
    pub(crate) asked: Vec<String>,
}

impl FakeDns {
    pub(crate) fn with(mut self, name: &str, kind: QueryKind, answer: DnsAnswer) -> Self {
        self.answers.insert((name.to_owned(), kind), answer);
        self
    }

    /// Drives `resolution` to the end (at most 64 steps).
    pub(crate) fn drive(&mut self, resolution: &mut Resolution, rng: &mut StdRng) {
        for _ in 0..64 {
            let query = match resolution.poll() {
                ResolveStep::Query(q) => q.clone(),
                _ => return,
            };
            self.asked.push(query.to_string());
            let answer = self.answers.get(&(query.name.clone(), query.kind)).cloned().unwrap_or(DnsAnswer::NoRecords);
            resolution.handle_answer(answer, rng);
        }
        panic!("resolution did not finish in 64 steps");
    }

    /// A new resolution of `target`, driven to the end with a seeded RNG.
    pub(crate) fn resolve(&mut self, table: &RoutingTable, target: &ZoneTarget, health: &HealthSnapshot, seed: u64) -> Resolution {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut resolution = Resolution::new(table, target, health, &mut rng);
        self.drive(&mut resolution, &mut rng);
        resolution
    }
}

/// Compares `actual` with `tests/golden/<name>`; `UPDATE_GOLDEN=1` rewrites the file instead.
pub(crate) fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        if let Err(e) = std::fs::write(&path, actual) {
            panic!("{}: {e}", path.display());
        }
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert_eq!(actual, expected, "golden file {} differs (UPDATE_GOLDEN=1 rewrites it)", path.display());
}
