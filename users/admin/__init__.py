"""The analysts' back office for customers: files, KYC lists, risk, risk trails, reviews, the risk model.

Every write goes through `users.services` (audited, re-scoring), never through the stock
admin's `save()`/`delete()`: the customer form, each inline and each action hand the
cleaned values to a service. A service's refusal (`ApplicationError`) is shown on the
form it came from: the change view is run a second time with the refusal attached, so
the analyst keeps what they typed and sees the error beside it.

The screens, by sub-domain (imports go one way, down this list):

- `shared`: permissions, refusal display, risk badges and links, big-list paginator, filters;
- `inlines`: the customer's KYC lists, stakes and roles, saved through their services;
- `customers`: the customer list and file (add person / organisation, soft delete);
- `risk`: risk trails with their four-eyes review, the risk model and its recalculation;
- `records`: reviews and user events, read only;
- `screening`: watchlist sources (with list file upload), entries and import runs;
- `screening_risks`: customers' screening hits, reviewed (confirm / dismiss / pending).

Importing this package registers every screen (Django's admin autodiscovery imports it).
"""

from users.admin.customers import (
    CustomerAdmin,
    CustomerForm,
    CustomerTypeFilter,
    RiskLevelFilter,
    StatusFilter,
)
from users.admin.inlines import (
    CustomerInline,
    KycInline,
    RoleInInline,
    RoleOutInline,
    ServiceInlineFormSet,
    StakeInInline,
    StakeOutInline,
)
from users.admin.records import ReviewAdmin, ReviewDueFilter, UserEventAdmin
from users.admin.risk import (
    ApprovalFilter,
    ReviewedFilter,
    ReviewPolicyAdmin,
    RiskFactorAdmin,
    RiskFactorForm,
    RiskLevelThresholdAdmin,
    RiskModelAdmin,
    RiskTrailAdmin,
    RiskTrailReviewForm,
    TrailLevelFilter,
)
from users.admin.screening import (
    ImportForm,
    ImportRunAdmin,
    WatchlistEntryAdmin,
    WatchlistSourceAdmin,
)
from users.admin.screening_risks import ScreeningRiskAdmin
from users.admin.shared import BigTableAdmin, DueFilter, EstimatedCountPaginator

__all__ = [
    "ApprovalFilter",
    "BigTableAdmin",
    "CustomerAdmin",
    "CustomerForm",
    "CustomerInline",
    "CustomerTypeFilter",
    "DueFilter",
    "EstimatedCountPaginator",
    "ImportForm",
    "ImportRunAdmin",
    "KycInline",
    "ReviewAdmin",
    "ReviewDueFilter",
    "ReviewPolicyAdmin",
    "ReviewedFilter",
    "RiskFactorAdmin",
    "RiskFactorForm",
    "RiskLevelFilter",
    "RiskLevelThresholdAdmin",
    "RiskModelAdmin",
    "RiskTrailAdmin",
    "RiskTrailReviewForm",
    "RoleInInline",
    "RoleOutInline",
    "ScreeningRiskAdmin",
    "ServiceInlineFormSet",
    "StakeInInline",
    "StakeOutInline",
    "StatusFilter",
    "TrailLevelFilter",
    "UserEventAdmin",
    "WatchlistEntryAdmin",
    "WatchlistSourceAdmin",
]
