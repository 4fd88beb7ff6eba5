//! The page shell (header, navigation, clinic switcher), shared form helpers and the
//! one embedded stylesheet.

use crate::session::{Acting, Ctx};
use ctwiz_core::access::Scope;
use maud::{html, Markup, DOCTYPE};

pub const STYLE: &str = include_str!("style.css");

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " – CT WiZ (ctwiz)" }
            link rel="stylesheet" href="/static/style.css";
        }
    }
}

/// A page for someone not signed in (sign-in, forgot, request an account, errors).
pub fn public(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body.public {
                header.top {
                    a.brand href="/" { "CT WiZ" span.sub { "Immunization Information System" } }
                    a.help-link href="/help" { "Help" }
                }
                main.narrow {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A plain message page; used for errors, so it never shows patient data.
pub fn bare(title: &str, message: &str) -> Markup {
    public(
        title,
        html! {
            p.notice { (message) }
            p { a href="/" { "Back to the home page" } }
        },
    )
}

/// The role the user holds where they are acting, for the header.
pub fn role_label(ctx: &Ctx) -> String {
    let role = match &ctx.acting {
        Acting::Clinic(c) => ctx.user.role_at(&c.pin).or_else(|| {
            ctx.user
                .grants
                .iter()
                .find(|g| g.scope == Scope::State)
                .map(|g| g.role)
        }),
        _ => ctx.user.grants.first().map(|g| g.role),
    };
    role.map(|r| r.label().to_string())
        .unwrap_or_else(|| "No access".into())
}

pub fn acting_label(ctx: &Ctx) -> String {
    match &ctx.acting {
        Acting::Clinic(c) => format!("{} ({})", c.name, c.pin),
        Acting::Jurisdiction(c) => c.label(),
        Acting::State => "Statewide".into(),
        Acting::Nowhere => "No clinic selected".into(),
    }
}

/// The modules the user may open, each with its first screen (the home page's tiles).
pub fn module_links(ctx: &Ctx) -> Vec<(&'static str, &'static str)> {
    crate::nav::menu(ctx)
        .into_iter()
        .filter(|(g, _)| !matches!(g, crate::nav::Group::Home | crate::nav::Group::Account))
        .map(|(g, screens)| (g.landing().unwrap_or(screens[0].path), g.label()))
        .collect()
}

/// The left-side menu: each module expandable to its screens; the module of the current
/// screen is open and the screen marked.
fn side_menu(ctx: &Ctx) -> Markup {
    let here = crate::nav::screen_for(&ctx.path);
    html! {
        nav.side aria-label="Modules" {
            @for (group, screens) in crate::nav::menu(ctx) {
                @let open = here.is_some_and(|h| h.group == group);
                @if group == crate::nav::Group::Home {
                    a.home href="/" aria-current=[(ctx.path == "/").then_some("page")] { "Home" }
                } @else {
                    details open[open] {
                        summary { (group.label()) }
                        ul {
                            @for s in screens {
                                li { a href=(s.path) aria-current=[(here.is_some_and(|h| h.key == s.key)).then_some("page")] { (s.title) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The title of a signed-in screen with its help icon and "Learn more" link.
fn screen_title(ctx: &Ctx, title: &str) -> Markup {
    let screen = crate::nav::screen_for(&ctx.path).filter(|s| s.key != "help");
    html! {
        div.title {
            h1 { (title) }
            @if let Some(s) = screen {
                a.help-icon href={ "/help/" (s.key) } title=(s.summary) aria-label={ "Help: " (s.title) } { "?" }
            }
        }
        @if let Some(s) = screen {
            p.screen-help { (s.summary) " " a href={ "/help/" (s.key) } { "Learn more" } }
        }
    }
}

/// What the notification bell counts where the user acts: the user's unread stored
/// notifications (decisions on their change requests and others), the clinic's stock
/// alerts (expired, expiring, low stock) and order decisions to act on, and for order
/// approvers the orders waiting for a decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bell {
    pub notifications: usize,
    pub stock_alerts: usize,
    pub order_decisions: usize,
    pub orders_to_decide: usize,
}

impl Bell {
    pub fn total(&self) -> usize {
        self.notifications + self.stock_alerts + self.order_decisions + self.orders_to_decide
    }

    fn summary(&self) -> String {
        format!(
            "{} unread notification(s), {} stock alert(s), {} order decision(s), {} order(s) to decide",
            self.notifications, self.stock_alerts, self.order_decisions, self.orders_to_decide
        )
    }
}

/// The signed-in page shell.
pub fn layout(ctx: &Ctx, title: &str, body: Markup) -> Markup {
    layout_with_bell(ctx, title, body, None)
}

/// The page shell with the notification bell (pages that loaded its counts).
pub fn layout_with_bell(ctx: &Ctx, title: &str, body: Markup, bell: Option<Bell>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                header.top {
                    a.brand href="/" { "CT WiZ" span.sub { "Immunization Information System" } }
                    div.who {
                        @let b = Bell { notifications: ctx.unread_notifications, ..bell.unwrap_or_default() };
                        a.bell href="/notifications" title=(b.summary())
                            aria-label=(format!("Notifications: {}", b.summary())) {
                            "🔔" @if b.total() > 0 { " " span.badge { (b.total()) } }
                        }
                        span.user { (ctx.user.full_name) " · " (role_label(ctx)) }
                        @if ctx.clinic_choices.len() > 1 {
                            form.inline method="post" action="/choose-clinic" {
                                (csrf_field(ctx))
                                label.visually-hidden for="switch-clinic" { "Clinic" }
                                select #switch-clinic name="pin" {
                                    @for (pin, name) in &ctx.clinic_choices {
                                        option value=(pin) selected[ctx.clinic().is_some_and(|c| &c.pin == pin)] {
                                            (name) " (" (pin) ")"
                                        }
                                    }
                                }
                                button.small type="submit" { "Switch" }
                            }
                        } @else {
                            span.where { (acting_label(ctx)) }
                        }
                        form.inline method="post" action="/sign-out" {
                            (csrf_field(ctx))
                            button.small.secondary type="submit" { "Sign out" }
                        }
                    }
                }
                div.shell {
                    // Until the first-sign-in steps are done every module redirects, so none is shown.
                    @if !ctx.setup_pending { (side_menu(ctx)) }
                    main {
                        (screen_title(ctx, title))
                        (body)
                    }
                }
                footer { "ctwiz · synthetic data only · " (acting_label(ctx)) }
            }
        }
    }
}

pub fn csrf_field(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.csrf); }
}

/// An error message above a form that was sent back for correction.
pub fn form_error(msg: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = msg {
            p.error role="alert" { (m) }
        }
    }
}

pub fn text_field(name: &str, label: &str, value: &str, required: bool) -> Markup {
    html! {
        label {
            span { (label) @if required { " *" } }
            input type="text" name=(name) value=(value) required[required];
        }
    }
}

pub fn date_field(name: &str, label: &str, value: &str, required: bool) -> Markup {
    html! {
        label {
            span { (label) @if required { " *" } }
            input type="date" name=(name) value=(value) required[required];
        }
    }
}

/// A `<select>` from (value, label) pairs.
pub fn select_field<'a>(
    name: &str,
    label: &str,
    options: impl IntoIterator<Item = (&'a str, String)>,
    selected: &str,
) -> Markup {
    html! {
        label {
            span { (label) }
            select name=(name) {
                @for (v, l) in options {
                    option value=(v) selected[v == selected] { (l) }
                }
            }
        }
    }
}
