"""Every domain's models, imported once: Alembic (and anything needing the full mapper graph) imports
`metadata` from here."""

from __future__ import annotations

from core.accounts import models as accounts_models
from core.analytics import models as analytics_models
from core.billing import models as billing_models
from core.brand import models as brand_models
from core.content import models as content_models
from core.db.base import Base
from core.distribution import models as distribution_models
from core.inbox import models as inbox_models
from core.integrations import slack_models as integrations_slack_models
from core.repurposing import models as repurposing_models
from core.system import models as system_models
from core.work import models as work_models
from core.workflow import models as workflow_models

MODEL_MODULES = (
    accounts_models,
    billing_models,
    brand_models,
    content_models,
    repurposing_models,
    workflow_models,
    integrations_slack_models,
    distribution_models,
    analytics_models,
    system_models,
    inbox_models,
    work_models,
)

metadata = Base.metadata

__all__ = ["MODEL_MODULES", "metadata"]
