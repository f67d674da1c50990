//! Leaf strings with a syntax of their own (each a JSON Schema definition
//! with a pattern, described in words by `string_rule`), and ports.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// Strings with a syntax of their own: each is a JSON Schema definition
/// with a pattern, and [`string_rule`] describes it in words.
macro_rules! pattern_strings {
    ($($(#[$doc:meta])* $ty:ident, $pattern:expr, $what:expr $(, max $max:expr)?;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
            #[serde(transparent)]
            pub struct $ty(pub String);

            impl $ty {
                pub fn as_str(&self) -> &str {
                    &self.0
                }
            }

            impl JsonSchema for $ty {
                fn schema_name() -> Cow<'static, str> {
                    stringify!($ty).into()
                }
                fn json_schema(_: &mut SchemaGenerator) -> Schema {
                    #[allow(unused_mut)]
                    let mut schema = json_schema!({
                        "type": "string",
                        "pattern": $pattern,
                        "description": $what,
                    });
                    $(schema.insert("maxLength".into(), $max.into());)?
                    schema
                }
            }
        )*

        /// The rule a patterned string follows, in words, by its schema name.
        pub fn string_rule(schema_name: &str) -> Option<&'static str> {
            match schema_name {
                $(stringify!($ty) => Some($what),)*
                _ => None,
            }
        }
    };
}

pattern_strings! {
    /// A name usable as a file name, a label value and a DNS label.
    Name, r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
        "a lowercase DNS label: letters a-z, digits and '-', starting and ending with a letter or digit, at most 63 characters";
    /// A Prometheus-style duration.
    DurationStr, r"^([0-9]+(ms|s|m|h|d|w|y))+$", "a duration such as 30s, 5m, 1h30m or 30d";
    /// A percentage with its sign.
    PercentStr, r"^[0-9]+(\.[0-9]+)?%$", "a percentage such as \"99.9%\"";
    /// A Kubernetes CPU quantity.
    CpuStr, r"^([0-9]+m|[0-9]+(\.[0-9]{1,3})?)$", "a CPU quantity such as 500m or 2";
    /// A Kubernetes memory quantity.
    MemoryStr, r"^[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?$", "a memory quantity such as 512Mi or 1Gi";
    /// An absolute URL path, optionally with a query.
    UrlPath, r"^/[A-Za-z0-9._~!$&()*+,;=:@%/?-]*$", "an absolute URL path such as /health, without spaces or quotes";
    /// An http or https URL.
    Url, r"^(https?|s3)://[A-Za-z0-9._~!$&()*+,;=:@%/?#\[\]-]+$", "a URL such as https://example.com, without spaces or quotes";
    /// A container image reference.
    Image, r"^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_.-]{1,128})?(@sha256:[a-f0-9]{64})?$",
        "a container image such as registry.example.com/app/api:1.8.0";
    /// A fully qualified DNS name, without the trailing dot.
    Hostname, r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$",
        "a lowercase DNS name with at least two labels, such as api.example.com";
    /// `host:port`.
    HostPort, r"^([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}$", "host:port, such as api:5001";
    /// A Prometheus metric name.
    MetricName, r"^[a-zA-Z_:][a-zA-Z0-9_:]*$", "a Prometheus metric name such as http_requests_total";
    /// A Prometheus label name.
    LabelName, r"^[a-zA-Z_][a-zA-Z0-9_]*$", "a Prometheus label name such as status";
    /// A Kubernetes label key: an optional DNS prefix and `/`, then a name.
    K8sLabelKey, r"^([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$",
        "a Kubernetes label key such as release or app.kubernetes.io/part-of";
    /// A Kubernetes label value.
    K8sLabelValue, r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$",
        "a Kubernetes label value such as kube-prometheus-stack (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)";
    /// An environment variable's name.
    EnvVar, r"^[A-Za-z_][A-Za-z0-9_]*$", "an environment variable name such as SLACK_WEBHOOK_URL";
    /// An absolute file path.
    AbsPath, r"^/[A-Za-z0-9._/-]+$", "an absolute path such as /etc/alertmanager/secrets/slack-url";
    /// A relative path inside the project.
    RelPath, r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$", "a relative path such as build/web";
    /// A git tag, branch or commit.
    GitRev, r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", "a git tag or commit such as v0.1.0 or 4f2c1e9", max 128;
    /// An email address.
    Email, r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$", "an email address such as ops@example.com";
    /// A Slack channel or user.
    SlackChannel, r"^[#@][a-z0-9._-]+$", "a Slack channel such as #alerts (at most 80 characters after the # or @)", max 81;
    /// A version string.
    VersionStr, r"^[0-9]+(\.[0-9]+){0,2}$", "a version such as \"16\" or \"8.0\"";
    /// A backup schedule.
    Schedule, r"^(hourly|daily|weekly)$", "hourly, daily or weekly";
    /// Where backups go: an S3 URL or an absolute directory.
    BackupDestination, r"^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\u0000-\u0020\u007f]*)?|/[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*)$", "s3://bucket/prefix or an absolute directory such as /backups";
    /// A PromQL expression (checked by a PromQL parser).
    PromQl, r"^[^\u0000-\u0008\u000b-\u001f\u007f]+$", "a PromQL expression";
    /// One argument of a command run in a container: any text but control
    /// characters (tabs and newlines aside), which no exec or shell passes on.
    CommandArg, r"^[^\u0000-\u0008\u000b-\u001f\u007f]*$", "a command argument without control characters";
    /// Free text on one line. (Its length is a `maxLength`, not a `{1,200}`
    /// in the pattern: that repetition of a Unicode class alone took 1.4 ms
    /// to compile, half of all the patterns together.)
    Text, r"^[^\u0000-\u001f\u007f]+$", "text on one line, at most 200 characters", max 200;
}

/// A TCP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Port(pub u16);

impl JsonSchema for Port {
    fn schema_name() -> Cow<'static, str> {
        "Port".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 1, "maximum": 65535, "description": "a TCP port number from 1 to 65535" })
    }
}
