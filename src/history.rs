//! What the stored history says: the Prometheus API ([`api`]), the
//! generated rules as Prometheus would replay them ([`replay`], with
//! recording rules inlined by [`inline`]), `harden backtest`
//! ([`backtest`], shown by [`render`], [`chart`] and [`svg`]) and
//! `harden report` ([`attainment`], months by [`calendar`]).

pub mod api;
pub mod attainment;
pub mod backtest;
pub mod calendar;
pub mod chart;
pub mod inline;
pub mod render;
pub mod replay;
pub mod svg;

/// Now, in milliseconds since the Unix epoch.
pub fn now() -> api::Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as api::Millis)
}
