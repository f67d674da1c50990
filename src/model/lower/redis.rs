//! A Redis cache: `maxmemory` and the container's memory sized together, its
//! exporter and its alerts.

use super::*;

impl Lower {
    /// A Redis cache: `maxmemory` and the container's memory sized
    /// together, so Redis evicts before the kernel kills it.
    pub(super) fn redis(
        &mut self,
        pointer: &str,
        s: &spec::Service,
        project: &Project,
    ) -> Option<Redis> {
        let persistence = s.persistence.unwrap_or(false);
        // Share of the memory limit `maxmemory` may take. Without
        // persistence the rest covers fragmentation and client buffers;
        // with it, a background rewrite forks and may copy every page.
        let (max_share, default_share) = if persistence { (50, 50) } else { (90, 75) };
        let maxmemory_at = format!("{pointer}/maxmemory");
        let maxmemory = match &s.maxmemory {
            Some(m) => Some(self.quantity(&maxmemory_at, MemoryQuantity::parse(m.as_str()))?),
            None => None,
        };
        let resources = match &s.resources {
            Some(r) => self.resources(&format!("{pointer}/resources"), r)?,
            None => {
                // The limit that gives `maxmemory` at most its default
                // share, rounded up to 64Mi; requested in full (Redis's memory is
                // not burstable), with a small CPU request and no CPU limit.
                let max = maxmemory.map_or(DEFAULT_MAXMEMORY, |m| m.bytes());
                let limit_mi = (u128::from(max) * 100)
                    .div_ceil(default_share * (64 << 20))
                    .max(1)
                    * 64;
                let memory = MemoryQuantity::parse(&format!("{limit_mi}Mi")).ok()?;
                let cpu = CpuQuantity::parse(DEFAULT_REDIS_CPU).ok()?;
                Resources {
                    cpu_millis: cpu.millicores(),
                    cpu: cpu.to_string(),
                    memory: memory.to_string(),
                    memory_bytes: memory.bytes(),
                    cpu_limit: None,
                    cpu_limit_millis: None,
                    memory_limit: memory.to_string(),
                    memory_limit_bytes: memory.bytes(),
                }
            }
        };
        let limit = u128::from(resources.memory_limit_bytes);
        let maxmemory_bytes = match maxmemory {
            Some(m) => {
                if u128::from(m.bytes()) * 100 > limit * max_share {
                    let why = if persistence {
                        "with persistence, a background rewrite forks and can copy every page"
                    } else {
                        "the rest holds fragmentation, client buffers and Redis itself"
                    };
                    self.invalid(
                        &maxmemory_at,
                        format!(
                            "maxmemory {m} is more than {max_share}% of the memory limit {}: the kernel would kill Redis before it evicts",
                            resources.memory_limit
                        ),
                        format!(
                            "lower maxmemory to at most {max_share}% of the limit, or raise resources.memory_limit ({why})"
                        ),
                    );
                    return None;
                }
                m.bytes()
            }
            None if s.resources.is_some() => {
                u64::try_from(limit * default_share / 100).unwrap_or(u64::MAX)
            }
            None => DEFAULT_MAXMEMORY,
        };
        let password = match &s.password {
            Some(p) => match self.secret(&format!("{pointer}/password"), p)? {
                SecretRef::File(_) => {
                    self.invalid(
                        &format!("{pointer}/password/file"),
                        "a Redis password is read from an environment variable, not a file",
                        "write `password = { env = \"REDIS_PASSWORD\" }`: Compose and Kubernetes pass it to Redis and its exporter as a secret",
                    );
                    return None;
                }
                env => Some(env),
            },
            None => None,
        };
        let policy = s.eviction_policy.unwrap_or(EvictionPolicy::AllkeysLru);
        let name = s.name.as_str();
        let alert = |kind, name: &str, severity, for_secs, threshold: Option<Decimal>| CacheAlert {
            kind,
            name: name.to_string(),
            severity,
            for_: Duration::secs(for_secs),
            threshold,
        };
        let ninety = Decimal::from_parts(9, 1);
        let mut alert_rules = vec![alert(
            CacheAlertKind::Down,
            "RedisDown",
            Severity::Critical,
            120,
            None,
        )];
        if !policy.evicts_any_key() {
            alert_rules.push(alert(
                CacheAlertKind::MemoryHigh,
                "RedisMemoryHigh",
                Severity::Warning,
                600,
                ninety,
            ));
        }
        alert_rules.push(alert(
            CacheAlertKind::TooManyClients,
            "RedisTooManyClients",
            Severity::Warning,
            300,
            ninety,
        ));
        alert_rules.push(alert(
            CacheAlertKind::RejectedConnections,
            "RedisRejectedConnections",
            Severity::Warning,
            0,
            None,
        ));
        Some(Redis {
            image: format!(
                "redis:{}",
                s.version
                    .as_ref()
                    .map_or(DEFAULT_REDIS_VERSION, |v| v.as_str())
            ),
            exporter_image: REDIS_EXPORTER_IMAGE.to_string(),
            maxmemory: MemoryQuantity::parse(&maxmemory_bytes.to_string())
                .map_or_else(|_| maxmemory_bytes.to_string(), |m| m.to_string()),
            maxmemory_bytes,
            eviction_policy: policy,
            maxclients: REDIS_MAXCLIENTS,
            password,
            persistence,
            storage: persistence.then(|| {
                MemoryQuantity::parse(&(resources.memory_limit_bytes.saturating_mul(2)).to_string())
                    .map_or_else(|_| resources.memory_limit.clone(), |m| m.to_string())
            }),
            resources,
            target: Target {
                region: project.primary_region().map(str::to_string),
                address: format!("{name}:{REDIS_EXPORTER_PORT}"),
            },
            alert_rules,
        })
    }
}

/// `maxmemory` without one in the spec or a memory limit to size it from.
const DEFAULT_MAXMEMORY: u64 = 256 << 20;

const DEFAULT_REDIS_CPU: &str = "100m";

/// Redis's own default `maxclients`.
const REDIS_MAXCLIENTS: u32 = 10_000;

/// The Redis image tag without a `version`: pinned, not `latest`.
const DEFAULT_REDIS_VERSION: &str = "7.4";

/// Pinned: the exporter's metric names are what the alerts query.
const REDIS_EXPORTER_IMAGE: &str = "oliver006/redis_exporter:v1.67.0";
