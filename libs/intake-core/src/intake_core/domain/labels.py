"""What people read for the engagement codes: one wording for the form, the dashboard and the
sales-team email, so a client and the sales team see the same words for the same answer."""

from __future__ import annotations

from intake_core.domain.models import BudgetRange, Industry, ServiceType, Timeline

INDUSTRY_LABELS: dict[Industry, str] = {
    Industry.TECHNOLOGY: "Technology and software",
    Industry.FINANCIAL_SERVICES: "Financial services",
    Industry.HEALTHCARE: "Healthcare",
    Industry.RETAIL: "Retail and e-commerce",
    Industry.MANUFACTURING: "Manufacturing",
    Industry.PUBLIC_SECTOR: "Public sector",
    Industry.EDUCATION: "Education",
    Industry.MEDIA: "Media and entertainment",
    Industry.ENERGY: "Energy and utilities",
    Industry.TELECOMMUNICATIONS: "Telecommunications",
    Industry.TRANSPORT: "Transport and logistics",
    Industry.OTHER: "Other",
}
SERVICE_TYPE_LABELS: dict[ServiceType, str] = {
    ServiceType.DEVOPS_CONSULTING: "DevOps consulting",
    ServiceType.CLOUD_MIGRATION: "Cloud migration",
    ServiceType.PLATFORM_ENGINEERING: "Platform engineering",
    ServiceType.CI_CD: "CI/CD pipelines",
    ServiceType.SRE: "Site reliability engineering",
    ServiceType.KUBERNETES: "Kubernetes",
    ServiceType.DEVSECOPS: "DevSecOps",
    ServiceType.TRAINING: "Training",
    ServiceType.OTHER: "Something else",
}
TIMELINE_LABELS: dict[Timeline, str] = {
    Timeline.ASAP: "As soon as possible",
    Timeline.WITHIN_3_MONTHS: "In 1 to 3 months",
    Timeline.WITHIN_6_MONTHS: "In 3 to 6 months",
    Timeline.WITHIN_12_MONTHS: "In 6 to 12 months",
    Timeline.FLEXIBLE: "Flexible",
}
# The consultancy quotes in US dollars; each amount names the currency, for clients abroad.
BUDGET_RANGE_LABELS: dict[BudgetRange, str] = {
    BudgetRange.UNDER_25K: "Under US$25k",
    BudgetRange.FROM_25K_TO_100K: "US$25k to US$100k",
    BudgetRange.FROM_100K_TO_250K: "US$100k to US$250k",
    BudgetRange.FROM_250K_TO_500K: "US$250k to US$500k",
    BudgetRange.OVER_500K: "Over US$500k",
    BudgetRange.UNDECIDED: "Not decided yet",
}
