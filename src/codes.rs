//! Every diagnostic code harden reports, in one typed list. A [`Code`] is
//! shown as `harden::<code>` (its kebab-case [`Code::as_str`]), which is
//! stable: scripts and snapshots match on it.

use std::fmt;

/// Declares [`Code`], its kebab-case names and [`Code::ALL`] from one list,
/// so no variant can miss its name or its place in `ALL`.
macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// What kind of problem a [`crate::diagnostics::Problem`] is.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable kebab-case name, shown as `harden::<name>`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }
        }
    };
}

codes! {
    // The text and its shape.
    /// The spec file is not valid UTF-8.
    NotUtf8 => "not-utf8",
    /// The spec file is larger than harden reads (it is not a spec).
    SpecTooLarge => "spec-too-large",
    /// The spec is not valid TOML.
    Syntax => "syntax",
    /// A key the schema does not know (perhaps misspelled).
    UnknownKey => "unknown-key",
    /// A key required here is absent.
    MissingKey => "missing-key",
    /// A value of the wrong TOML type.
    WrongType => "wrong-type",
    /// The single `[service.slo]` table of older harden: SLOs are now
    /// `[[service.slo]]`, one per objective (the help shows the rewrite).
    SloTable => "slo-table",
    /// A value of the right type that the key does not accept.
    InvalidValue => "invalid-value",
    /// A number outside the key's bounds.
    OutOfRange => "out-of-range",
    /// A secret written as a literal instead of an `env`/`file` reference.
    PlaintextSecret => "plaintext-secret",
    /// A value shaped like a credential (a token, a key, a URL with a
    /// password) in any text field: found by [`crate::secrets`].
    Credential => "credential",
    /// Nesting deeper than harden reads (TOML tables and arrays, PromQL
    /// parentheses): refused before any recursion could run out of stack.
    TooDeep => "too-deep",
    /// A value longer than harden reads in bounded time (a PromQL
    /// expression's length or number of terms).
    TooLarge => "too-large",
    /// harden failed on its own account (a bug to report), not the spec's.
    Internal => "internal",
    /// The `hardening.schema.json` that `harden init` wrote beside the spec
    /// is another harden's schema (warning, from `diff` and `check`).
    StaleSchema => "stale-schema",

    // Meaning: keys and references.
    /// A key set where it has no effect (another kind, engine or platform).
    KeyNotApplicable => "key-not-applicable",
    /// Two keys that exclude each other are both set.
    ConflictingKeys => "conflicting-keys",
    /// A name that refers to nothing defined in the spec.
    UndefinedReference => "undefined-reference",
    /// A name defined twice where names must be unique.
    DuplicateName => "duplicate-name",
    /// A name taken by something harden generates beside the services.
    ReservedName => "reserved-name",
    /// Something harden does not generate (yet).
    NotSupported => "not-supported",

    // Meaning: services.
    /// Two things would listen on one port.
    PortConflict => "port-conflict",
    /// Liveness and readiness probes that would disagree on one path.
    ProbeOverlap => "probe-overlap",
    /// A pod disruption budget that would never let a node drain.
    PdbBlocksDrains => "pdb-blocks-drains",
    /// A business metric's PromQL does not parse.
    InvalidPromql => "invalid-promql",

    // Backups.
    /// The default backup image cannot upload to S3 (warning).
    BackupImageWithoutAws => "backup-image-without-aws",
    /// The platform keeps backups for less time than the spec asks (warning).
    PlatformBackupRetention => "platform-backup-retention",
    /// A backup directory on a platform whose disk does not persist.
    BackupDestinationEphemeral => "backup-destination-ephemeral",
    /// An App Platform backup worker without an image that holds the backup script.
    BackupImageNeeded => "backup-image-needed",
    /// A backup image from a registry the platform cannot pull from.
    ImageRegistry => "image-registry",

    // Receivers.
    /// A secret the receiver's software cannot read from where it is.
    UnreadableSecret => "unreadable-secret",

    // DigitalOcean App Platform.
    /// An instance size App Platform does not offer.
    UnknownInstanceSize => "unknown-instance-size",
    /// A region App Platform does not run in.
    UnknownRegion => "unknown-region",
    /// An app name longer than App Platform allows.
    NameTooLong => "name-too-long",
    /// An image from a registry App Platform cannot pull from.
    UnsupportedRegistry => "unsupported-registry",
    /// Autoscaling on an instance size App Platform cannot autoscale.
    SharedInstanceAutoscaling => "shared-instance-autoscaling",
    /// A service that can run several App Platform instances, with no say
    /// in how each instance's metrics leave it (App Platform cannot scrape
    /// instances one by one).
    UnscrapableInstances => "unscrapable-instances",
}

impl Code {
    /// Whether a problem of this kind is about a secret's value: its value
    /// is masked wherever a diagnostic would show it.
    pub const fn masks_value(self) -> bool {
        matches!(self, Code::PlaintextSecret | Code::Credential)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Code;
    use std::collections::BTreeSet;

    #[test]
    fn every_code_is_unique_and_kebab_case() {
        let mut seen = BTreeSet::new();
        for code in Code::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                !s.is_empty()
                    && !s.starts_with('-')
                    && !s.ends_with('-')
                    && !s.contains("--")
                    && s.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{s} is not kebab-case"
            );
        }
    }
}
