//! Request and response bodies of the catalog endpoints: tests, courses, registrations and
//! their payments. Closed sets are enums, so the document lists their values. Amounts are whole
//! KRW.

use reserva_application::ports::catalog::ListedItem;
use reserva_application::time::format_instant;
use reserva_domain::catalog::{
    CatalogSort, Category, ItemKind, Registration, RegistrationStatus, SkillLevel,
};
use reserva_domain::exams::BusinessZone;
use reserva_domain::wallet::{Payment, PaymentMethod, PaymentStatus, RefundState};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::routes::{plain_text, prose_text};

/// Whether an item is a test or a course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum KindDto {
    /// A test: one applies for it.
    Test,
    /// A course: one enrols in it.
    Course,
}

impl From<ItemKind> for KindDto {
    fn from(kind: ItemKind) -> Self {
        match kind {
            ItemKind::Test => Self::Test,
            ItemKind::Course => Self::Course,
        }
    }
}

impl From<KindDto> for ItemKind {
    fn from(kind: KindDto) -> Self {
        match kind {
            KindDto::Test => Self::Test,
            KindDto::Course => Self::Course,
        }
    }
}

/// A course's subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub(crate) enum CategoryDto {
    /// JavaScript.
    JavaScript,
    /// Python.
    Python,
    /// Django.
    Django,
    /// React.
    React,
    /// Vue.
    Vue,
    /// Node.js.
    Node,
    /// Amazon Web Services.
    #[serde(rename = "AWS")]
    Aws,
    /// Docker.
    Docker,
    /// Databases.
    #[serde(rename = "DB")]
    Db,
}

impl From<Category> for CategoryDto {
    fn from(category: Category) -> Self {
        match category {
            Category::JavaScript => Self::JavaScript,
            Category::Python => Self::Python,
            Category::Django => Self::Django,
            Category::React => Self::React,
            Category::Vue => Self::Vue,
            Category::Node => Self::Node,
            Category::Aws => Self::Aws,
            Category::Docker => Self::Docker,
            Category::Db => Self::Db,
        }
    }
}

impl From<CategoryDto> for Category {
    fn from(category: CategoryDto) -> Self {
        match category {
            CategoryDto::JavaScript => Self::JavaScript,
            CategoryDto::Python => Self::Python,
            CategoryDto::Django => Self::Django,
            CategoryDto::React => Self::React,
            CategoryDto::Vue => Self::Vue,
            CategoryDto::Node => Self::Node,
            CategoryDto::Aws => Self::Aws,
            CategoryDto::Docker => Self::Docker,
            CategoryDto::Db => Self::Db,
        }
    }
}

/// How advanced a course is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SkillLevelDto {
    /// For newcomers.
    Beginner,
    /// For those with some practice.
    Intermediate,
    /// For experts.
    Advanced,
}

impl From<SkillLevel> for SkillLevelDto {
    fn from(level: SkillLevel) -> Self {
        match level {
            SkillLevel::Beginner => Self::Beginner,
            SkillLevel::Intermediate => Self::Intermediate,
            SkillLevel::Advanced => Self::Advanced,
        }
    }
}

impl From<SkillLevelDto> for SkillLevel {
    fn from(level: SkillLevelDto) -> Self {
        match level {
            SkillLevelDto::Beginner => Self::Beginner,
            SkillLevelDto::Intermediate => Self::Intermediate,
            SkillLevelDto::Advanced => Self::Advanced,
        }
    }
}

/// How to pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PaymentMethodDto {
    /// Credit or debit card (1,000–100,000,000).
    Card,
    /// KakaoPay (100–50,000,000).
    Kakaopay,
    /// Bank transfer (1,000–200,000,000).
    BankTransfer,
    /// The caller's wallet (0–10,000,000; the only way to take a free item).
    Wallet,
}

impl From<PaymentMethod> for PaymentMethodDto {
    fn from(method: PaymentMethod) -> Self {
        match method {
            PaymentMethod::Card => Self::Card,
            PaymentMethod::Kakaopay => Self::Kakaopay,
            PaymentMethod::BankTransfer => Self::BankTransfer,
            PaymentMethod::Wallet => Self::Wallet,
        }
    }
}

impl From<PaymentMethodDto> for PaymentMethod {
    fn from(method: PaymentMethodDto) -> Self {
        match method {
            PaymentMethodDto::Card => Self::Card,
            PaymentMethodDto::Kakaopay => Self::Kakaopay,
            PaymentMethodDto::BankTransfer => Self::BankTransfer,
            PaymentMethodDto::Wallet => Self::Wallet,
        }
    }
}

/// A shown payment's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PaymentStatusDto {
    /// Paid: the registration is live (or completed).
    Paid,
    /// Cancelled: the registration is cancelled and the amount refunded (or owed).
    Cancelled,
}

impl From<PaymentStatusDto> for PaymentStatus {
    fn from(status: PaymentStatusDto) -> Self {
        match status {
            PaymentStatusDto::Paid => Self::Paid,
            PaymentStatusDto::Cancelled => Self::Cancelled,
        }
    }
}

impl PaymentStatusDto {
    /// The shown status of a payment (only paid and cancelled ones are ever shown; a payment
    /// answered by an apply is paid).
    const fn of(status: PaymentStatus) -> Self {
        match status {
            PaymentStatus::Cancelled => Self::Cancelled,
            PaymentStatus::Pending | PaymentStatus::Paid | PaymentStatus::Failed => Self::Paid,
        }
    }
}

/// Where a cancelled payment's refund stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RefundStatusDto {
    /// Nothing to give back at the provider: not cancelled, or paid from the wallet (refunded to
    /// it at once).
    NotDue,
    /// Owed by the payment provider; retried until it confirms.
    Pending,
    /// The provider confirmed it.
    Done,
}

impl From<RefundState> for RefundStatusDto {
    fn from(state: RefundState) -> Self {
        match state {
            RefundState::NotDue => Self::NotDue,
            RefundState::Pending => Self::Pending,
            RefundState::Done => Self::Done,
        }
    }
}

/// A registration's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RegistrationStatusDto {
    /// Applied for a test.
    Applied,
    /// Enrolled in a course.
    Enrolled,
    /// Taken or finished.
    Completed,
    /// Cancelled with its payment.
    Cancelled,
}

impl From<RegistrationStatus> for RegistrationStatusDto {
    fn from(status: RegistrationStatus) -> Self {
        match status {
            RegistrationStatus::Applied => Self::Applied,
            RegistrationStatus::Enrolled => Self::Enrolled,
            RegistrationStatus::Completed => Self::Completed,
            RegistrationStatus::Cancelled => Self::Cancelled,
        }
    }
}

/// `?status=` of a catalog list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ItemStatusDto {
    /// Only items open now (`starts_at ≤ now ≤ ends_at`).
    Available,
}

/// `?sort=` of a catalog list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SortDto {
    /// Newest first.
    #[default]
    Created,
    /// Most live registrations first, then newest.
    Popular,
}

impl From<SortDto> for CatalogSort {
    fn from(sort: SortDto) -> Self {
        match sort {
            SortDto::Created => Self::Created,
            SortDto::Popular => Self::Popular,
        }
    }
}

/// Filters of `GET /tests` and `GET /courses`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListItemsQuery {
    /// `available`: only items open now. Absent: every item.
    pub status: Option<ItemStatusDto>,
    /// Full-text search in the title and description: every word must match (at most 200
    /// characters and 10 words; blank: no search).
    pub q: Option<String>,
    /// Order (default `created`). A cursor only continues the order it came from.
    pub sort: Option<SortDto>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Filters of `GET /me/payments`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListPaymentsQuery {
    /// Only this status.
    pub status: Option<PaymentStatusDto>,
    /// Only payments for tests, or for courses.
    pub kind: Option<KindDto>,
    /// Paid on or after this date (`YYYY-MM-DD`, business time zone).
    #[param(format = Date)]
    pub from: Option<String>,
    /// Paid on or before this date (`YYYY-MM-DD`, business time zone).
    #[param(format = Date)]
    pub to: Option<String>,
    /// The item's title contains this text (case-insensitive; blank: no search).
    pub q: Option<String>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// `POST /tests/{id}/apply` and `POST /courses/{id}/enroll`. Serialize gives the canonical form
/// an idempotency key is bound to.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterRequest {
    /// The item's price, exactly (in KRW); within the method's limits.
    #[schema(example = 45_000)]
    pub amount: i64,
    /// How to pay.
    pub payment_method: PaymentMethodDto,
}

/// `POST /admin/tests` and `POST /admin/courses`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateItemRequest {
    /// 1–255 characters after trimming; no control or invisible characters.
    #[schema(example = "TOEIC mock test")]
    #[validate(custom(function = "plain_text"))]
    pub title: String,
    /// Up to 5,000 characters; line breaks and tabs are allowed, other control characters
    /// are not (400 `control_character`).
    #[validate(custom(function = "prose_text"))]
    pub description: Option<String>,
    /// 0–100,000,000 KRW.
    #[schema(example = 45_000)]
    pub price: i64,
    /// When it opens for registration, RFC 3339 with offset.
    #[schema(example = "2026-12-01T09:00:00+09:00")]
    #[validate(length(max = 64), custom(function = "plain_text"))]
    pub starts_at: String,
    /// When it closes (after `starts_at`).
    #[schema(example = "2026-12-31T18:00:00+09:00")]
    #[validate(length(max = 64), custom(function = "plain_text"))]
    pub ends_at: String,
    /// Courses only (required for them).
    pub category: Option<CategoryDto>,
    /// Courses only (required for them).
    pub skill_level: Option<SkillLevelDto>,
    /// Courses only: who teaches it, an active tutor. Required from an admin; a tutor may omit
    /// it (it is then the tutor) or name themselves.
    #[schema(format = Uuid)]
    #[validate(length(max = 64), custom(function = "plain_text"))]
    pub tutor_id: Option<String>,
}

/// Deserialises a field that is present (even as `null`) to `Some`, so an absent field (`None`,
/// by `default`) and a `null` one (`Some(None)`) differ.
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// `PATCH /admin/tests/{id}` and `PATCH /admin/courses/{id}`: only the fields sent change.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateItemRequest {
    /// 1–255 characters after trimming.
    #[validate(custom(function = "plain_text"))]
    pub title: Option<String>,
    /// Up to 5,000 characters; `null` removes it. Line breaks and tabs are allowed, other
    /// control characters are not (checked by the handler: `validator` cannot see into the
    /// nested option).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// 0–100,000,000 KRW (payments already made keep theirs).
    pub price: Option<i64>,
    /// RFC 3339 with offset.
    #[validate(length(max = 64), custom(function = "plain_text"))]
    pub starts_at: Option<String>,
    /// RFC 3339 with offset; after `starts_at`.
    #[validate(length(max = 64), custom(function = "plain_text"))]
    pub ends_at: Option<String>,
    /// Courses only.
    pub category: Option<CategoryDto>,
    /// Courses only.
    pub skill_level: Option<SkillLevelDto>,
    /// Courses only, admins only: another active tutor.
    #[schema(format = Uuid)]
    #[validate(length(max = 64), custom(function = "plain_text"))]
    pub tutor_id: Option<String>,
}

/// A test as the caller sees it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TestResponse {
    /// Id.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Price in KRW.
    pub price: i64,
    /// When it opens.
    pub starts_at: String,
    /// When it closes.
    pub ends_at: String,
    /// Created.
    pub created_at: String,
    /// Live registrations.
    pub registration_count: i64,
    /// Whether the caller holds a live registration for it.
    pub is_registered: bool,
}

impl TestResponse {
    pub(crate) fn new(listed: &ListedItem, zone: BusinessZone) -> Self {
        let item = &listed.item;
        Self {
            id: item.id.as_uuid(),
            title: item.title.as_str().to_owned(),
            description: item
                .description
                .as_ref()
                .map(|text| text.as_str().to_owned()),
            price: item.price.get(),
            starts_at: format_instant(item.schedule.starts_at(), zone),
            ends_at: format_instant(item.schedule.ends_at(), zone),
            created_at: format_instant(item.created_at, zone),
            registration_count: item.registration_count,
            is_registered: listed.is_registered,
        }
    }
}

/// A course as the caller sees it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CourseResponse {
    /// Id.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Price in KRW.
    pub price: i64,
    /// When it opens.
    pub starts_at: String,
    /// When it closes.
    pub ends_at: String,
    /// Created.
    pub created_at: String,
    /// Live registrations.
    pub registration_count: i64,
    /// Whether the caller holds a live registration for it.
    pub is_registered: bool,
    /// Subject.
    pub category: CategoryDto,
    /// Level.
    pub skill_level: SkillLevelDto,
    /// Who teaches it.
    pub tutor_id: Uuid,
}

impl CourseResponse {
    /// `None` for an item without course details (never a course).
    pub(crate) fn new(listed: &ListedItem, zone: BusinessZone) -> Option<Self> {
        let course = listed.item.course?;
        let test = TestResponse::new(listed, zone);
        Some(Self {
            id: test.id,
            title: test.title,
            description: test.description,
            price: test.price,
            starts_at: test.starts_at,
            ends_at: test.ends_at,
            created_at: test.created_at,
            registration_count: test.registration_count,
            is_registered: test.is_registered,
            category: course.category.into(),
            skill_level: course.skill_level.into(),
            tutor_id: course.tutor_id.as_uuid(),
        })
    }
}

/// A page of tests.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TestPageResponse {
    /// In the requested order.
    pub items: Vec<TestResponse>,
    /// Pass as `?cursor=` (with the same `sort`) for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// A page of courses.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CoursePageResponse {
    /// In the requested order.
    pub items: Vec<CourseResponse>,
    /// Pass as `?cursor=` (with the same `sort`) for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// A registration for a test or course.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RegistrationResponse {
    /// Id.
    pub id: Uuid,
    /// The test or course.
    pub item_id: Uuid,
    /// Which of the two.
    pub kind: KindDto,
    /// Status.
    pub status: RegistrationStatusDto,
    /// When it was paid for.
    pub registered_at: String,
    /// When it was completed.
    pub completed_at: Option<String>,
    /// When it was cancelled.
    pub cancelled_at: Option<String>,
}

impl RegistrationResponse {
    pub(crate) fn new(registration: &Registration, zone: BusinessZone) -> Self {
        Self {
            id: registration.id.as_uuid(),
            item_id: registration.item_id.as_uuid(),
            kind: registration.kind.into(),
            status: registration.status.into(),
            registered_at: format_instant(registration.registered_at, zone),
            completed_at: registration.completed_at.map(|at| format_instant(at, zone)),
            cancelled_at: registration.cancelled_at.map(|at| format_instant(at, zone)),
        }
    }
}

/// A payment for a registration.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PaymentResponse {
    /// Id; with an `Idempotency-Key`, derived from it, so a retry finds this payment.
    pub id: Uuid,
    /// Test or course.
    pub kind: KindDto,
    /// The test or course.
    pub item_id: Uuid,
    /// Its title when it was paid.
    pub item_title: String,
    /// What was paid, in KRW.
    pub amount: i64,
    /// How.
    pub payment_method: PaymentMethodDto,
    /// Status.
    pub status: PaymentStatusDto,
    /// When it was paid.
    pub paid_at: String,
    /// When it was cancelled.
    pub cancelled_at: Option<String>,
    /// The refund of a cancelled payment.
    pub refund_status: RefundStatusDto,
    /// The provider's fee for the method, informational (KRW, rounded).
    pub estimated_fee: i64,
}

impl PaymentResponse {
    pub(crate) fn new(payment: &Payment, zone: BusinessZone) -> Self {
        Self {
            id: payment.id.as_uuid(),
            kind: payment.kind.into(),
            item_id: payment.item_id.as_uuid(),
            item_title: payment.item_title.clone(),
            amount: payment.amount.get(),
            payment_method: payment.method.into(),
            status: PaymentStatusDto::of(payment.status),
            // Shown payments are paid (or were, before a cancel): `created_at` never shows.
            paid_at: format_instant(payment.paid_at.unwrap_or(payment.created_at), zone),
            cancelled_at: payment.cancelled_at.map(|at| format_instant(at, zone)),
            refund_status: payment.refund.into(),
            estimated_fee: payment.method.estimated_fee(payment.amount),
        }
    }
}

/// A payment with its registration.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PaymentRecordResponse {
    /// The payment.
    pub payment: PaymentResponse,
    /// Its registration (`null` only if it has none).
    pub registration: Option<RegistrationResponse>,
}

impl PaymentRecordResponse {
    pub(crate) fn new(
        payment: &Payment,
        registration: Option<&Registration>,
        zone: BusinessZone,
    ) -> Self {
        Self {
            payment: PaymentResponse::new(payment, zone),
            registration: registration.map(|r| RegistrationResponse::new(r, zone)),
        }
    }
}

/// A page of payments.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PaymentPageResponse {
    /// Newest payment first.
    pub items: Vec<PaymentRecordResponse>,
    /// Pass as `?cursor=` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}
