//! One Redis cache's dashboard: up, memory against `maxmemory`, the hit
//! ratio, evictions, clients against `maxclients` and refused connections,
//! from redis_exporter's series. The alert thresholds the model gives the
//! cache are drawn on the panels they watch.

use serde_json::json;

use super::BuildError;
use super::dashboard::{Dashboard, Layout, Link, Target, Thresholds, number};
use super::service::{firing_by_name, stat, timeseries};
use crate::model::{CacheAlertKind, Model, Redis, Service, redis_series as series};
use crate::units::Decimal;
use crate::vocab::promql_str;
use crate::vocab::{OVERVIEW_UID, percent};

pub fn dashboard(model: &Model, svc: &Service, redis: &Redis) -> Result<Dashboard, BuildError> {
    let name = &svc.name;
    let mut board = Dashboard::new(
        svc.dashboard_uid(),
        format!("{} / {name}", model.project.name),
        vec![
            "harden".into(),
            model.project.name.clone(),
            name.clone(),
            "redis".into(),
        ],
    );
    board.links = vec![
        Link::to_dashboard(format!("{} overview", model.project.name), OVERVIEW_UID),
        Link::tagged("Dashboards", "harden"),
    ];
    let job = format!("{{job=\"{}\"}}", promql_str(name));
    let threshold = |kind: CacheAlertKind| {
        redis
            .alert_rules
            .iter()
            .find(|a| a.kind == kind)
            .and_then(|a| a.threshold)
    };
    let policy = redis.eviction_policy.as_str();
    let mut layout = Layout::new();
    layout.row(&format!("Redis (maxmemory {}, {policy})", redis.maxmemory));

    let mut up = stat(
        "Redis up",
        "Whether redis_exporter reaches Redis (redis_up).",
        vec![Target::new(format!("{}{job}", series::UP), "{{instance}}").instant()],
        "none",
        Thresholds::new("red", &[(Decimal::ONE, "green")])?,
    );
    up.field.mappings = vec![json!({
        "type": "value",
        "options": {
            "0": { "text": "DOWN", "color": "red", "index": 0 },
            "1": { "text": "UP", "color": "green", "index": 1 },
        },
    })];
    up.options["colorMode"] = json!("background");
    layout.add(4, 8, up);

    let (title, description, steps) = match threshold(CacheAlertKind::MemoryHigh) {
        Some(t) => (
            format!("Memory of maxmemory (alert above {})", percent(t)),
            format!(
                "Memory used as a share of maxmemory ({}); the dashed line is the RedisMemoryHigh threshold: with {policy} a full cache refuses writes.",
                redis.maxmemory
            ),
            vec![(t, "red")],
        ),
        None => (
            "Memory of maxmemory".to_string(),
            format!(
                "Memory used as a share of maxmemory ({}); with {policy} a full cache evicts, so a warm one sits near 100%: watch evictions and the hit ratio.",
                redis.maxmemory
            ),
            vec![(Decimal::ONE, "orange")],
        ),
    };
    let mut memory = timeseries(
        &title,
        &description,
        vec![Target::new(
            format!("{}{job} / {}{job}", series::MEMORY_USED, series::MEMORY_MAX),
            "{{instance}}",
        )],
        "percentunit",
        Thresholds::new("green", &steps)?,
    );
    memory.field.min = Some(number(Decimal::ZERO)?);
    layout.add(10, 8, memory);

    let hits = format!("sum(rate({}{job}[5m]))", series::HITS);
    let misses = format!("sum(rate({}{job}[5m]))", series::MISSES);
    let mut hit_ratio = timeseries(
        "Hit ratio",
        "Share of key lookups that found their key (keyspace hits ÷ hits + misses, over 5m). A falling ratio with rising evictions means the cache is too small for its working set.",
        vec![Target::new(
            format!("{hits} / ({hits} + {misses})"),
            "hit ratio",
        )],
        "percentunit",
        Thresholds::new("green", &[])?,
    );
    hit_ratio.field.min = Some(number(Decimal::ZERO)?);
    hit_ratio.field.max = Some(number(Decimal::ONE)?);
    layout.add(10, 8, hit_ratio);

    let mut evictions = timeseries(
        "Evictions per second",
        &format!("Keys evicted to stay under maxmemory ({policy})."),
        vec![Target::new(
            format!("rate({}{job}[5m])", series::EVICTED),
            "{{instance}}",
        )],
        "ops",
        Thresholds::new("green", &[])?,
    );
    evictions.field.min = Some(number(Decimal::ZERO)?);
    layout.add(8, 8, evictions);

    let (title, steps) = match threshold(CacheAlertKind::TooManyClients) {
        Some(t) => (
            format!("Clients of maxclients (alert above {})", percent(t)),
            vec![(t, "red")],
        ),
        None => ("Clients of maxclients".to_string(), Vec::new()),
    };
    let mut clients = timeseries(
        &title,
        "Connected clients as a share of maxclients; the dashed line is the RedisTooManyClients threshold.",
        vec![Target::new(
            format!("{}{job} / {}{job}", series::CLIENTS, series::MAX_CLIENTS),
            "{{instance}}",
        )],
        "percentunit",
        Thresholds::new("green", &steps)?,
    );
    clients.field.min = Some(number(Decimal::ZERO)?);
    layout.add(8, 8, clients);

    let mut rejected = timeseries(
        "Refused connections (5m)",
        "Connections Redis refused at maxclients over the last 5m; any is a RedisRejectedConnections alert.",
        vec![Target::new(
            format!("increase({}{job}[5m])", series::REJECTED),
            "{{instance}}",
        )],
        "none",
        Thresholds::new("green", &[(Decimal::ONE, "red")])?,
    );
    rejected.field.min = Some(number(Decimal::ZERO)?);
    layout.add(8, 8, rejected);

    let firing = format!(
        "ALERTS{{service=\"{}\", alertstate=\"firing\"}}",
        promql_str(name)
    );
    layout.row("Alerts");
    layout.add(24, 6, firing_by_name("cache", &firing)?);

    board.panels = layout.finish();
    Ok(board)
}
