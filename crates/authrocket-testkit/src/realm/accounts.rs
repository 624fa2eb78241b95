//! How users sign in to the fake realm through LoginRocket: test users declared with
//! [`UserSpec`], their passwords, MFA and unverified emails, the realm's sign-in settings,
//! and the [`Mail`] that would reach a user by email (reset and verification tokens, MFA codes).

use std::collections::{HashMap, HashSet};

use crate::random_id;

/// The password of every user the realm creates on first use (`FakeRealm::login`,
/// `FakeRealm::user`) and of [`UserSpec`]s that set none.
pub const DEMO_PASSWORD: &str = "demo-password";

/// A user for [`FakeRealmBuilder::user`](crate::FakeRealmBuilder::user): email, password,
/// names, memberships with the permissions the test decides, MFA.
///
/// ```
/// use authrocket_testkit::UserSpec;
///
/// let ann = UserSpec::new("ann@example.com")
///     .password("ann's password")
///     .names("Ann", "Admin")
///     .member("Acme", ["ar:admin"])
///     .member("Beta", ["billing:read"])
///     .mfa();
/// let bob = UserSpec::new("bob@example.com").member("Acme", Vec::<String>::new()); // no permission
/// # let _ = (ann, bob);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct UserSpec {
    pub(super) email: String,
    pub(super) password: String,
    pub(super) first_name: Option<String>,
    pub(super) last_name: Option<String>,
    /// `(org name, permissions)`, in order: the first is the default account.
    pub(super) orgs: Vec<(String, Vec<String>)>,
    pub(super) mfa: bool,
    pub(super) email_verified: bool,
}

impl UserSpec {
    /// A user with this email, [`DEMO_PASSWORD`], names from the email, no membership.
    pub fn new(email: impl Into<String>) -> Self {
        Self {
            email: email.into(),
            password: DEMO_PASSWORD.to_owned(),
            first_name: None,
            last_name: None,
            orgs: Vec::new(),
            mfa: false,
            email_verified: true,
        }
    }

    /// Their password.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = password.into();
        self
    }

    /// Their first and last names.
    pub fn names(mut self, first: impl Into<String>, last: impl Into<String>) -> Self {
        self.first_name = Some(first.into());
        self.last_name = Some(last.into());
        self
    }

    /// A membership of the org named `org` (created on first mention, shared by every user
    /// naming it) with these permissions. The first membership is the default account.
    pub fn member<I, P>(mut self, org: impl Into<String>, permissions: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        let permissions = permissions.into_iter().map(Into::into).collect();
        self.orgs.push((org.into(), permissions));
        self
    }

    /// Logging in asks for a code (`need_mfa`), readable with `FakeRealm::mails`.
    pub fn mfa(mut self) -> Self {
        self.mfa = true;
        self
    }

    /// Their email is not verified yet.
    pub fn unverified(mut self) -> Self {
        self.email_verified = false;
        self
    }
}

/// Who may sign up through LoginRocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Signup {
    /// Anyone (the default).
    #[default]
    Open,
    /// Only emails invited with `FakeRealm::invite`; others may `POST signup/request`.
    InvitationOnly,
}

/// What kind of [`Mail`] it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MailKind {
    /// A password reset token (`tpw:…`), from `POST password/forgot`.
    PasswordReset,
    /// An email verification token (`tve:…`), sent at signup.
    EmailVerification,
    /// A login's MFA code (for the `tmf:…` token of a `need_mfa` answer).
    MfaCode,
    /// A request for an invitation (`POST signup/request`): nothing to redeem.
    InvitationRequest,
}

/// What the realm would have sent a user by email (or, for MFA, by their authenticator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The address.
    pub to: String,
    /// What it is.
    pub kind: MailKind,
    /// The token or code it carries (empty for an invitation request).
    pub token: String,
}

/// A token handed out and not yet redeemed.
#[derive(Debug, Clone)]
pub(super) enum Pending {
    /// `tmf:…`: the user logging in, and the code that completes it.
    Mfa { user_id: String, code: String },
    /// `tpw:…`
    Reset { user_id: String },
    /// `tve:…`
    Verify { user_id: String },
}

/// Sign-in state beside the Core API's: credentials, settings, what is pending.
#[derive(Debug, Default)]
pub(super) struct Accounts {
    pub(super) passwords: HashMap<String, String>,
    pub(super) mfa: HashSet<String>,
    pub(super) unverified: HashSet<String>,
    pub(super) pending: HashMap<String, Pending>,
    pub(super) mails: Vec<Mail>,
    pub(super) invited: HashSet<String>,
    pub(super) settings: SignInSettings,
}

/// The realm's sign-in settings, fixed by the builder (origins can be added later).
#[derive(Debug, Clone, Default)]
pub(super) struct SignInSettings {
    /// Users may belong to several orgs and pick one (`no_account_selected`).
    pub(super) multi_user_orgs: bool,
    pub(super) signup: Signup,
    pub(super) require_names: bool,
    pub(super) require_org_name: bool,
    /// Origins allowed to call the browser API cross-origin.
    pub(super) origins: Vec<String>,
}

impl Accounts {
    /// A new token with `prefix` for `pending`, mailed to `to` as `kind` (MFA: the code).
    pub(super) fn hand_out(
        &mut self,
        prefix: &str,
        to: &str,
        kind: MailKind,
        pending: Pending,
    ) -> String {
        let token = random_id(prefix);
        let mailed = match &pending {
            Pending::Mfa { code, .. } => code.clone(),
            _ => token.clone(),
        };
        self.mails.push(Mail {
            to: to.to_owned(),
            kind,
            token: mailed,
        });
        self.pending.insert(token.clone(), pending);
        token
    }
}
