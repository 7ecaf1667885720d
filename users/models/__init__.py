"""The monitored customers (seed 003 "customers", seeds 004/002 "users") and what we know of them."""

from users.models.customers import Customer, KycStatus, RiskLevel, UserState
from users.models.events import UserEvent
from users.models.kyc import (
    Address,
    AnnualIncome,
    CommunicationMeans,
    CountryPresence,
    CustomerAssociation,
    CustomerEvent,
    Document,
    FinancialStatement,
    Fund,
    IdCard,
    ScreeningRisk,
    Stake,
    Wealth,
)
from users.models.monitoring import MonitoringActivity
from users.models.risk import (
    Review,
    ReviewPolicy,
    RiskCategory,
    RiskFactor,
    RiskLevelThreshold,
    RiskTrail,
)

__all__ = [
    "Address",
    "AnnualIncome",
    "CommunicationMeans",
    "CountryPresence",
    "Customer",
    "CustomerAssociation",
    "CustomerEvent",
    "Document",
    "FinancialStatement",
    "Fund",
    "IdCard",
    "KycStatus",
    "MonitoringActivity",
    "Review",
    "ReviewPolicy",
    "RiskCategory",
    "RiskFactor",
    "RiskLevel",
    "RiskLevelThreshold",
    "RiskTrail",
    "ScreeningRisk",
    "Stake",
    "UserEvent",
    "UserState",
    "Wealth",
]
