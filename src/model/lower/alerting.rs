//! `[alerting]`: routes, receivers and the secrets they read.

use super::*;

impl Lower {
    pub(super) fn alerting(&mut self, a: &spec::Alerting, spec: &spec::Spec) -> Alerting {
        self.unique_names(
            "/alerting/receiver",
            a.receivers.iter().map(|r| r.name.as_str()),
            "receiver",
        );
        let receivers: Vec<Receiver> = a
            .receivers
            .iter()
            .enumerate()
            .filter_map(|(i, r)| self.receiver(&format!("/alerting/receiver/{i}"), r))
            .collect();
        let names: Vec<&str> = a.receivers.iter().map(|r| r.name.as_str()).collect();
        let services: Vec<&str> = spec.services.iter().map(|s| s.name.as_str()).collect();
        let mut routes = Vec::new();
        for (i, r) in a.routes.iter().enumerate() {
            let at = format!("/alerting/route/{i}");
            for (j, name) in r.receivers.iter().enumerate() {
                self.reference(
                    &format!("{at}/receivers/{j}"),
                    name.as_str(),
                    "receiver",
                    names.iter().copied(),
                );
            }
            if let Some(service) = &r.service {
                self.reference(
                    &format!("{at}/service"),
                    service.as_str(),
                    "service",
                    services.iter().copied(),
                );
            }
            if r.severity.is_none() && r.service.is_none() && r.team.is_none() {
                self.report(
                    Problem::new(Code::MissingKey, "this route matches every alert")
                        .with_label(Label::key(at.clone(), "no severity, service or team"))
                        .with_help("add `severity`, `service` or `team`; for alerts no route matches, set `alerting.default_receiver`"),
                );
            }
            routes.push(Route {
                severity: r.severity,
                service: r.service.as_ref().map(|s| s.as_str().to_string()),
                team: r.team.as_ref().map(|t| t.as_str().to_string()),
                receivers: r.receivers.iter().map(|n| n.as_str().to_string()).collect(),
                continue_: r.continue_.unwrap_or(false),
            });
        }
        let default_receiver = match &a.default_receiver {
            Some(d) => {
                self.reference(
                    "/alerting/default_receiver",
                    d.as_str(),
                    "receiver",
                    names.iter().copied(),
                );
                Some(d.as_str().to_string())
            }
            None => names.first().map(|n| n.to_string()),
        };
        if !routes.is_empty() && receivers.is_empty() && a.receivers.is_empty() {
            self.missing(
                "/alerting",
                "receiver",
                "routing alerts",
                "[{ name = \"team-slack\", type = \"slack\", … }]",
            );
        }
        let group_by = a
            .group_by
            .as_ref()
            .map(|g| g.iter().map(|l| l.as_str().to_string()).collect())
            .unwrap_or_else(|| vec!["alertname".to_string(), "service".to_string()]);
        Alerting {
            group_by,
            group_wait: self.duration_or("/alerting/group_wait", a.group_wait.as_ref(), 30),
            group_interval: self.duration_or(
                "/alerting/group_interval",
                a.group_interval.as_ref(),
                300,
            ),
            repeat_interval: self.duration_or(
                "/alerting/repeat_interval",
                a.repeat_interval.as_ref(),
                4 * 3600,
            ),
            default_receiver,
            receivers,
            routes,
        }
    }

    pub(super) fn receiver(&mut self, pointer: &str, r: &spec::Receiver) -> Option<Receiver> {
        use ReceiverType::*;
        let fields: [(&str, bool, ReceiverType); 11] = [
            ("channel", r.channel.is_some(), Slack),
            ("webhook_url", r.webhook_url.is_some(), Slack),
            ("to", r.to.is_some(), Email),
            ("from", r.from.is_some(), Email),
            ("smarthost", r.smarthost.is_some(), Email),
            ("username", r.username.is_some(), Email),
            ("password", r.password.is_some(), Email),
            ("require_tls", r.require_tls.is_some(), Email),
            ("routing_key", r.routing_key.is_some(), Pagerduty),
            ("url", r.url.is_some(), Webhook),
            ("token", r.token.is_some(), Webhook),
        ];
        let type_name = |t: ReceiverType| match t {
            Slack => "slack receivers",
            Email => "email receivers",
            Pagerduty => "pagerduty receivers",
            Webhook => "webhook receivers",
        };
        let mut ok = true;
        for (key, set, only) in fields {
            if set && r.type_ != only {
                self.not_applicable(pointer, key, type_name(only));
                ok = false;
            }
        }
        let mut need = |cx: &mut Self, key: &str, set: bool, example: &str| {
            if !set {
                cx.missing(
                    pointer,
                    key,
                    type_name(r.type_).trim_end_matches('s'),
                    example,
                );
                ok = false;
            }
        };
        let channel = match r.type_ {
            Slack => {
                need(self, "channel", r.channel.is_some(), "\"#alerts\"");
                need(
                    self,
                    "webhook_url",
                    r.webhook_url.is_some(),
                    "{ env = \"SLACK_WEBHOOK_URL\" }",
                );
                let webhook = r
                    .webhook_url
                    .as_ref()
                    .and_then(|s| self.secret(&format!("{pointer}/webhook_url"), s));
                match (&r.channel, webhook) {
                    (Some(c), Some(w)) => Some(ReceiverChannel::Slack {
                        channel: c.as_str().to_string(),
                        webhook_url: w,
                    }),
                    _ => None,
                }
            }
            Email => {
                need(self, "to", r.to.is_some(), "\"ops@example.com\"");
                need(self, "from", r.from.is_some(), "\"alerts@example.com\"");
                need(
                    self,
                    "smarthost",
                    r.smarthost.is_some(),
                    "\"smtp.example.com:587\"",
                );
                let password = r
                    .password
                    .as_ref()
                    .and_then(|s| self.secret(&format!("{pointer}/password"), s));
                let username = match &r.username {
                    Some(spec::Credential::Plain(t)) => Some(t.as_str().to_string()),
                    Some(spec::Credential::Secret(_)) => {
                        // Alertmanager has `auth_password_file` but no
                        // `auth_username_file`, and expands no variables.
                        self.report(
                            Problem::new(
                                Code::UnreadableSecret,
                                "Alertmanager cannot read the SMTP user name from the environment or a file",
                            )
                            .with_label(Label::value(format!("{pointer}/username"), "named, not written"))
                            .with_help("write the user name itself, `username = \"alerts@example.com\"`; it is not a secret (the password stays one)"),
                        );
                        None
                    }
                    None => None,
                };
                match (&r.to, &r.from, &r.smarthost) {
                    (Some(to), Some(from), Some(host)) => Some(ReceiverChannel::Email {
                        to: to.as_str().to_string(),
                        from: from.as_str().to_string(),
                        smarthost: host.as_str().to_string(),
                        username,
                        password,
                        require_tls: r.require_tls.unwrap_or(true),
                    }),
                    _ => None,
                }
            }
            Pagerduty => {
                need(
                    self,
                    "routing_key",
                    r.routing_key.is_some(),
                    "{ env = \"PAGERDUTY_ROUTING_KEY\" }",
                );
                r.routing_key
                    .as_ref()
                    .and_then(|s| self.secret(&format!("{pointer}/routing_key"), s))
                    .map(|routing_key| ReceiverChannel::Pagerduty { routing_key })
            }
            Webhook => {
                need(
                    self,
                    "url",
                    r.url.is_some(),
                    "\"https://hooks.example.com/alerts\"",
                );
                let token = r
                    .token
                    .as_ref()
                    .and_then(|s| self.secret(&format!("{pointer}/token"), s));
                let url = match r.url.as_ref() {
                    Some(spec::WebhookUrl::Plain(u)) => {
                        Some(WebhookUrl::Plain(u.as_str().to_string()))
                    }
                    Some(spec::WebhookUrl::Secret(s)) => self
                        .secret(&format!("{pointer}/url"), s)
                        .map(WebhookUrl::Secret),
                    None => None,
                };
                url.map(|url| ReceiverChannel::Webhook { url, token })
            }
        };
        if !ok {
            return None;
        }
        Some(Receiver {
            name: r.name.as_str().to_string(),
            send_resolved: r.send_resolved.unwrap_or(r.type_ != Email),
            channel: channel?,
        })
    }

    pub(super) fn secret(&mut self, pointer: &str, s: &spec::Secret) -> Option<SecretRef> {
        let (found, at) = match (&s.env, &s.file) {
            (Some(env), None) => (
                SecretRef::Env(env.as_str().to_string()),
                format!("{pointer}/env"),
            ),
            (None, Some(file)) => (
                SecretRef::File(file.as_str().to_string()),
                format!("{pointer}/file"),
            ),
            (Some(_), Some(_)) => {
                self.report(
                    Problem::new(
                        Code::ConflictingKeys,
                        "a secret is named by both `env` and `file`",
                    )
                    .with_label(Label::value(pointer, "two sources"))
                    .with_help("keep one: `{ env = \"NAME\" }` or `{ file = \"/path\" }`"),
                );
                return None;
            }
            (None, None) => {
                self.report(
                    Problem::new(Code::MissingKey, "a secret needs `env` or `file`")
                        .with_label(Label::value(pointer, "names no source"))
                        .with_help("write `{ env = \"NAME\" }` or `{ file = \"/path\" }`"),
                );
                return None;
            }
        };
        // Platforms deliver a variable's secret under a name made of its
        // letters and digits: it must have some, and no other variable may
        // make the same. (Files are mounted at their own paths.)
        if matches!(found, SecretRef::File(_)) {
            return Some(found);
        }
        let name = found.secret_name();
        if name.is_empty() {
            self.invalid(
                &at,
                "this variable has no letter or digit to name its secret by on the platforms",
                "use a name with letters or digits, such as SLACK_WEBHOOK_URL",
            );
            return None;
        }
        match self.secret_names.get(&name) {
            Some((other, first)) if *other != found => {
                let first = first.clone();
                self.report(
                    Problem::new(
                        Code::DuplicateName,
                        format!("two different variables would both be delivered as secret `{name}`"),
                    )
                    .with_label(Label::value(at.clone(), "this one"))
                    .with_label(Label::value(first, "and this one"))
                    .with_help("rename one: /run/secrets/<name> and Kubernetes Secret keys are the variable's name in lower case, `_` as `-`"),
                );
                return None;
            }
            Some(_) => {}
            None => {
                self.secret_names.insert(name, (found.clone(), at));
            }
        }
        Some(found)
    }
}
