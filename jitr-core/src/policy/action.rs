//! The actions AWS IoT checks and the `Action` element's patterns.

use core::fmt;
use core::str::FromStr;

use crate::Error;

/// An action AWS IoT Core authorizes with policies, with the resource type it is checked
/// against (AWS IoT Core policy actions and action resources).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Action {
    /// `iot:Connect` on `client/<clientId>`.
    Connect,
    /// `iot:DeleteConnection` on `client/<clientId>`.
    DeleteConnection,
    /// `iot:Publish` on `topic/<topic>`.
    Publish,
    /// `iot:Receive` on `topic/<topic>`.
    Receive,
    /// `iot:RetainPublish` on `topic/<topic>` (publishing with RETAIN set).
    RetainPublish,
    /// `iot:Subscribe` on `topicfilter/<filter>`.
    Subscribe,
    /// `iot:GetRetainedMessage` on `topic/<topic>`.
    GetRetainedMessage,
    /// `iot:ListRetainedMessages` on `*`.
    ListRetainedMessages,
    /// `iot:DeleteThingShadow` on `thing/<thing>[/<shadow>]`.
    DeleteThingShadow,
    /// `iot:GetThingShadow` on `thing/<thing>[/<shadow>]`.
    GetThingShadow,
    /// `iot:UpdateThingShadow` on `thing/<thing>[/<shadow>]`.
    UpdateThingShadow,
    /// `iot:ListNamedShadowsForThing` on `*`.
    ListNamedShadowsForThing,
    /// `iot:DescribeJobExecution` on `thing/<thing>`.
    DescribeJobExecution,
    /// `iot:GetPendingJobExecutions` on `thing/<thing>`.
    GetPendingJobExecutions,
    /// `iot:UpdateJobExecution` on `thing/<thing>`.
    UpdateJobExecution,
    /// `iot:StartNextPendingJobExecution` on `thing/<thing>`.
    StartNextPendingJobExecution,
    /// `iotjobsdata:DescribeJobExecution` on `thing/<thing>`.
    JobsDataDescribeJobExecution,
    /// `iotjobsdata:GetPendingJobExecutions` on `thing/<thing>`.
    JobsDataGetPendingJobExecutions,
    /// `iotjobsdata:UpdateJobExecution` on `thing/<thing>`.
    JobsDataUpdateJobExecution,
    /// `iotjobsdata:StartNextPendingJobExecution` on `thing/<thing>`.
    JobsDataStartNextPendingJobExecution,
    /// `iot:AssumeRoleWithCertificate` on `rolealias/<alias>`.
    AssumeRoleWithCertificate,
}

impl Action {
    /// Every action, in declaration order (at most 32: statements keep a bit mask).
    pub const ALL: [Action; 21] = [
        Self::Connect,
        Self::DeleteConnection,
        Self::Publish,
        Self::Receive,
        Self::RetainPublish,
        Self::Subscribe,
        Self::GetRetainedMessage,
        Self::ListRetainedMessages,
        Self::DeleteThingShadow,
        Self::GetThingShadow,
        Self::UpdateThingShadow,
        Self::ListNamedShadowsForThing,
        Self::DescribeJobExecution,
        Self::GetPendingJobExecutions,
        Self::UpdateJobExecution,
        Self::StartNextPendingJobExecution,
        Self::JobsDataDescribeJobExecution,
        Self::JobsDataGetPendingJobExecutions,
        Self::JobsDataUpdateJobExecution,
        Self::JobsDataStartNextPendingJobExecution,
        Self::AssumeRoleWithCertificate,
    ];

    /// The action's name in a policy, e.g. `iot:Publish`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Connect => "iot:Connect",
            Self::DeleteConnection => "iot:DeleteConnection",
            Self::Publish => "iot:Publish",
            Self::Receive => "iot:Receive",
            Self::RetainPublish => "iot:RetainPublish",
            Self::Subscribe => "iot:Subscribe",
            Self::GetRetainedMessage => "iot:GetRetainedMessage",
            Self::ListRetainedMessages => "iot:ListRetainedMessages",
            Self::DeleteThingShadow => "iot:DeleteThingShadow",
            Self::GetThingShadow => "iot:GetThingShadow",
            Self::UpdateThingShadow => "iot:UpdateThingShadow",
            Self::ListNamedShadowsForThing => "iot:ListNamedShadowsForThing",
            Self::DescribeJobExecution => "iot:DescribeJobExecution",
            Self::GetPendingJobExecutions => "iot:GetPendingJobExecutions",
            Self::UpdateJobExecution => "iot:UpdateJobExecution",
            Self::StartNextPendingJobExecution => "iot:StartNextPendingJobExecution",
            Self::JobsDataDescribeJobExecution => "iotjobsdata:DescribeJobExecution",
            Self::JobsDataGetPendingJobExecutions => "iotjobsdata:GetPendingJobExecutions",
            Self::JobsDataUpdateJobExecution => "iotjobsdata:UpdateJobExecution",
            Self::JobsDataStartNextPendingJobExecution => {
                "iotjobsdata:StartNextPendingJobExecution"
            }
            Self::AssumeRoleWithCertificate => "iot:AssumeRoleWithCertificate",
        }
    }

    /// The resource type in the ARN the action is checked against (`client`, `topic`,
    /// `topicfilter`, `thing`, `rolealias`), or `None` for actions checked against `*`.
    pub fn resource_type(self) -> Option<&'static str> {
        match self {
            Self::Connect | Self::DeleteConnection => Some("client"),
            Self::Publish | Self::Receive | Self::RetainPublish | Self::GetRetainedMessage => {
                Some("topic")
            }
            Self::Subscribe => Some("topicfilter"),
            Self::ListRetainedMessages | Self::ListNamedShadowsForThing => None,
            Self::AssumeRoleWithCertificate => Some("rolealias"),
            _ => Some("thing"),
        }
    }

    /// TestAuthorization's `actionType` for this action (`CONNECT`, `PUBLISH`,
    /// `SUBSCRIBE`, `RECEIVE`), jitr's `RETAIN_PUBLISH`, or the action name for others.
    pub fn action_type(self) -> &'static str {
        match self {
            Self::Connect => "CONNECT",
            Self::Publish => "PUBLISH",
            Self::Subscribe => "SUBSCRIBE",
            Self::Receive => "RECEIVE",
            Self::RetainPublish => "RETAIN_PUBLISH",
            other => other.name(),
        }
    }

    /// The position in [`Self::ALL`] (declaration order).
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

// Statements keep the actions they cover as a `u32` bit mask.
const _: () = assert!(Action::ALL.len() <= 32);

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Action {
    type Err = Error;

    /// An `actionType` (`CONNECT`, `PUBLISH`, `SUBSCRIBE`, `RECEIVE`, `RETAIN_PUBLISH`)
    /// or an action name (`iot:UpdateThingShadow`, any case).
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|a| a.action_type() == s || a.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::InvalidRequest(format!(
                    "{:?} is not an action: CONNECT, PUBLISH, SUBSCRIBE, RECEIVE, RETAIN_PUBLISH or an action name such as iot:GetThingShadow",
                    super::pattern::short(s)
                ))
            })
    }
}

/// One entry of a statement's `Action`: `*`, or `service:name` where the name may have
/// `*` and `?`. Matched without regard to ASCII case (IAM: action names are not case
/// sensitive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ActionPattern {
    /// Lowercase.
    pattern: String,
}

impl ActionPattern {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        if text == "*" {
            return Ok(Self {
                pattern: "*".into(),
            });
        }
        let Some((service, name)) = text.split_once(':') else {
            return Err(format!(
                "{:?} is not an action: write service:ActionName, such as iot:Publish",
                super::pattern::short(text)
            ));
        };
        let service_ok = !service.is_empty()
            && service
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'*' || b == b'?');
        if !service_ok || !name_ok {
            return Err(format!(
                "{:?} is not an action: a service prefix of letters, digits and -, a colon, then letters and digits with * and ? as wildcards",
                super::pattern::short(text)
            ));
        }
        Ok(Self {
            pattern: text.to_ascii_lowercase(),
        })
    }

    pub(crate) fn matches(&self, action: Action) -> bool {
        glob_ascii_ci(self.pattern.as_bytes(), action.name().as_bytes())
    }
}

/// `*` and `?` over ASCII bytes, case-insensitive (`pattern` is lowercase).
fn glob_ascii_ci(p: &[u8], t: &[u8]) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                pi += 1;
                star = Some((pi, ti));
                continue;
            }
            Some(&c) if c == b'?' || c == t[ti].to_ascii_lowercase() => {
                pi += 1;
                ti += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, st)) => {
                pi = sp;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_patterns_are_case_insensitive_globs() {
        let m = |p: &str, a: Action| ActionPattern::parse(p).unwrap().matches(a);
        assert!(m("iot:Publish", Action::Publish));
        assert!(m("IOT:publish", Action::Publish));
        assert!(m("iot:*", Action::Subscribe));
        assert!(m("*", Action::JobsDataUpdateJobExecution));
        assert!(m("iot:Pub*", Action::Publish));
        assert!(!m("iot:Pub*", Action::RetainPublish));
        assert!(m("iot:*Publish", Action::RetainPublish));
        assert!(m("iot:?onnect", Action::Connect));
        assert!(!m("iot:Connect", Action::DeleteConnection));
        assert!(!m("iotjobsdata:*", Action::Publish));
        for bad in [
            "Publish",
            "iot:",
            ":Publish",
            "iot:Pub lish",
            "iot:Pub/x",
            "iot*:*",
        ] {
            assert!(ActionPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn action_types_round_trip() {
        for a in Action::ALL {
            assert_eq!(a.action_type().parse::<Action>().unwrap(), a);
            assert_eq!(a.name().parse::<Action>().unwrap(), a);
            assert_eq!(Action::ALL[a.index()], a);
        }
        assert!("PUBLISHX".parse::<Action>().is_err());
    }
}
