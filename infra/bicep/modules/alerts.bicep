// Alert and recording rules, each alert routed by its severity label. Azure Managed Prometheus
// evaluates rule groups, not the chart's PrometheusRule, so the chart's rules are written here a
// second time. Its recording rules, which the dashboard and the error-budget policy read, are
// recorded as the chart records them: the same groups, names, expressions and namespace label.
// Its alerts have the same names, labels, annotations, windows and thresholds, each windowed SLI
// inlined where the chart reads its recording rule, so that no alert waits on a recording rule.
// tests/infra_bicep/test_alert_parity.py renders the chart with values-<env>.yaml and compares
// every rule with this module under <env>.bicepparam. Each cluster holds one environment, so the
// alerts are scoped by cluster rather than by namespace.
// Plus metric alerts on the Service Bus queue, which no Prometheus metric shows: its dead letters,
// and a backlog that stays (the notifier down or not receiving, whatever its own metrics say).

@description('Azure region of the Prometheus rule groups (the Azure Monitor workspace region).')
@allowed([
  'eastus'
  'eastus2'
])
param location string

@description('Tags applied to every resource.')
param tags object

@description('Name stem, e.g. intake-dev-eus.')
@minLength(3)
@maxLength(40)
param nameStem string

@description('Resource id of the action group of the alerts labelled severity=page (email and PagerDuty).')
@minLength(10)
param pageActionGroupId string

@description('Resource id of the action group of the alerts labelled severity=ticket (email only: they never page).')
@minLength(10)
param ticketActionGroupId string

@description('Resource id of the Azure Monitor workspace (managed Prometheus).')
@minLength(10)
param prometheusWorkspaceId string

@description('Resource id of the AKS cluster.')
@minLength(10)
param clusterId string

@description('Resource id of the Service Bus namespace.')
@minLength(10)
param serviceBusNamespaceId string

@description('Name of the Service Bus queue.')
@minLength(1)
@maxLength(260)
param queueName string

@description('Kubernetes namespace the chart installs into: the recording rules select and label their series with it, as the chart\'s do (the dashboard picks the namespace).')
@minLength(1)
@maxLength(63)
param kubernetesNamespace string

@description('Availability SLO of intake-api, e.g. 0.999 (the chart: slo.availability.objective).')
@minLength(4)
@maxLength(7)
param availabilitySlo string

@description('Age in minutes of the oldest unpublished outbox event above which OutboxStale fires once it lasts 10 minutes (the chart: outbox.maxAgeSeconds).')
@minValue(5)
@maxValue(120)
param outboxMaxAgeMinutes int

@description('Fewest replicas of the notify worker (the chart: services.notify.keda.minReplicaCount, or its replicas without KEDA). NotifyDown is deployed only when it is 1 or more: where KEDA may scale an idle worker to zero, no worker is the normal state.')
@minValue(0)
@maxValue(50)
param notifyMinReplicas int

@description('Active messages in the queue above which, at every minute of 15, the backlog alert fires.')
@minValue(1)
@maxValue(100000)
param queueBacklogThreshold int

@description('Address of each alert\'s runbook, {alert} standing for the alert\'s name (the chart: monitoring.prometheusRule.runbookUrl).')
@minLength(20)
@maxLength(300)
param runbookUrl string

var clusterName = last(split(clusterId, '/'))

// The chart's defaults (charts/onboarding/values.yaml, monitoring.prometheusRule).
var intakeApi = 'service=~"(.*-)?intake-api",route=~"/v1/.+"'
var notifyTargets = 'job=~"(.*-)?notify"'
var latencyObjective = '0.95'
var latencyThresholdSeconds = '0.5'
var freshnessObjective = '0.99'
var freshnessThresholdSeconds = '300.0'
var sloPeriod = '30d'
var azureSeverity = {
  page: 1
  ticket: 2
}
// Each alert goes to the action group of its severity label: Azure Monitor has no Alertmanager to
// route or inhibit, so a ticket must not share the group that pages.
var actionGroupIds = {
  page: pageActionGroupId
  ticket: ticketActionGroupId
}

// Multi-window, multi-burn-rate alerts (docs/slo.md). A burn with minEvents also needs more than
// that many of the SLI's events in its long window: at low traffic one bad event could page alone.
var burnRates = [
  {
    burn: 'fast'
    long: '1h'
    short: '5m'
    factor: '14.4'
    forDuration: 'PT2M'
    severity: 'page'
    minEvents: 100
  }
  {
    burn: 'medium'
    long: '6h'
    short: '30m'
    factor: '6'
    forDuration: 'PT15M'
    severity: 'page'
    minEvents: 0
  }
  {
    burn: 'slow'
    long: '1d'
    short: '2h'
    factor: '3'
    forDuration: 'PT1H'
    severity: 'ticket'
    minEvents: 0
  }
]

// Each SLO's share of bad events over WINDOW (recorded as onboarding:<bad>:ratio_rate<W>), the
// events it counts (onboarding:<all>:rate5m) and the bad ones' rate (onboarding:<bad>:rate5m).
var slos = [
  {
    alert: 'IntakeApiAvailabilityBurnRate'
    slo: 'intake-api-availability'
    sli: 'intake_api_availability'
    bad: 'intake_api_errors'
    all: 'intake_api_requests'
    objective: availabilitySlo
    ratio: 'sum(rate(http_requests_total{${intakeApi},status=~"5.."}[WINDOW])) / sum(rate(http_requests_total{${intakeApi}}[WINDOW]))'
    events: 'http_requests_total{${intakeApi}}'
    badRate: 'sum(rate(http_requests_total{${intakeApi},status=~"5.."}[5m]))'
    summary: 'intake-api is burning its availability error budget'
    description: 'of intake-api requests answered 5xx'
    eventName: 'requests'
  }
  {
    alert: 'IntakeApiLatencyBurnRate'
    slo: 'intake-api-latency'
    sli: 'intake_api_latency'
    bad: 'intake_api_slow'
    all: 'intake_api_durations'
    objective: latencyObjective
    ratio: '1 - (sum(rate(http_request_duration_seconds_bucket{${intakeApi},le="${latencyThresholdSeconds}"}[WINDOW])) / sum(rate(http_request_duration_seconds_bucket{${intakeApi},le="+Inf"}[WINDOW])))'
    events: 'http_request_duration_seconds_bucket{${intakeApi},le="+Inf"}'
    badRate: 'sum(rate(http_request_duration_seconds_bucket{${intakeApi},le="+Inf"}[5m])) - sum(rate(http_request_duration_seconds_bucket{${intakeApi},le="${latencyThresholdSeconds}"}[5m]))'
    summary: 'intake-api is burning its latency error budget'
    description: 'of intake-api requests slower than ${latencyThresholdSeconds}s'
    eventName: 'requests'
  }
  {
    alert: 'SubmissionFreshnessBurnRate'
    slo: 'submission-freshness'
    sli: 'submission_freshness'
    bad: 'submission_late'
    all: 'submission_emails'
    objective: freshnessObjective
    ratio: '1 - (sum(rate(notify_submission_to_email_seconds_bucket{le="${freshnessThresholdSeconds}"}[WINDOW])) / sum(rate(notify_submission_to_email_seconds_bucket{le="+Inf"}[WINDOW])))'
    events: 'notify_submission_to_email_seconds_bucket{le="+Inf"}'
    badRate: 'sum(rate(notify_submission_to_email_seconds_bucket{le="+Inf"}[5m])) - sum(rate(notify_submission_to_email_seconds_bucket{le="${freshnessThresholdSeconds}"}[5m]))'
    summary: 'Sales-team emails are falling behind submissions'
    description: 'of emails sent more than ${freshnessThresholdSeconds}s after their submission'
    eventName: 'emails'
  }
]

// Every SLO with every burn rate, by index (checkov's Bicep parser cannot read lambdas).
var burnRateCount = length(burnRates)
var sloBurnRates = [
  for i in range(0, length(slos) * burnRateCount): {
    slo: slos[i / burnRateCount]
    burnRate: burnRates[i % burnRateCount]
  }
]

// The chart's recording rules, in its three groups. Unlike the alerts, they select and label the
// release's namespace, as the chart's do: every selector above has matchers, so scoping one is
// putting the namespace's matcher first. No [for …] is a function's argument: checkov's Bicep
// parser cannot read one there.
var namespaceMatcher = 'namespace="${kubernetesNamespace}"'
var recordedLabels = {
  namespace: kubernetesNamespace
}
// Every window of a burn rate, once (union() keeps one of each value, as the chart's uniq).
var longWindows = [
  for burnRate in burnRates: burnRate.long
]
var shortWindows = [
  for burnRate in burnRates: burnRate.short
]
var windows = union(longWindows, shortWindows)
var sliCount = length(slos)

var eventRates = [
  for slo in slos: {
    record: 'onboarding:${slo.all}:rate5m'
    expression: replace('sum(rate(${slo.events}[5m]))', '{', '{${namespaceMatcher},')
  }
]
var badRates = [
  for slo in slos: {
    record: 'onboarding:${slo.bad}:rate5m'
    expression: replace(slo.badRate, '{', '{${namespaceMatcher},')
  }
]
var latencyP95 = {
  record: 'onboarding:intake_api_request_duration_seconds:p95_rate5m'
  expression: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${namespaceMatcher},${intakeApi}}[5m])))'
}

var windowRecords = [
  for i in range(0, length(windows) * sliCount): {
    record: 'onboarding:${slos[i % sliCount].bad}:ratio_rate${windows[i / sliCount]}'
    expression: replace(replace(slos[i % sliCount].ratio, '{', '{${namespaceMatcher},'), 'WINDOW', windows[i / sliCount])
  }
]

var periodRatios = [
  for slo in slos: {
    record: 'onboarding:${slo.bad}:ratio_period'
    expression: 'sum_over_time(onboarding:${slo.bad}:rate5m{${namespaceMatcher}}[${sloPeriod}]) / sum_over_time(onboarding:${slo.all}:rate5m{${namespaceMatcher}}[${sloPeriod}])'
  }
]
var objectives = [
  for slo in slos: {
    record: 'onboarding:${slo.sli}:objective'
    expression: 'vector(${slo.objective})'
  }
]
var budgetsRemaining = [
  for slo in slos: {
    record: 'onboarding:${slo.sli}:error_budget_remaining'
    expression: '1 - onboarding:${slo.bad}:ratio_period{${namespaceMatcher}} / (1 - ${slo.objective})'
  }
]

// At most 20 rules in an Azure rule group: one group each, as the chart has them.
var recordingGroups = [
  {
    name: 'onboarding-sli-rates'
    description: 'per-second rates over 5m of intake-api\'s requests and the sales-team emails, which the error-budget period sums.'
    rules: concat(eventRates, badRates, [latencyP95])
  }
  {
    name: 'onboarding-sli-windows'
    description: 'each SLI\'s share of bad events over each burn-rate window.'
    rules: windowRecords
  }
  {
    name: 'onboarding-slo-budget'
    description: 'each SLI over the SLO period, its objective and the error budget remaining (docs/slo.md).'
    rules: concat(periodRatios, objectives, budgetsRemaining)
  }
]

var recordingRuleGroups = [
  for group in recordingGroups: {
    name: group.name
    description: group.description
    rules: [
      for rule in group.rules: union(rule, {
        enabled: true
        labels: recordedLabels
      })
    ]
  }
]

var burnRateRules = [
  for pair in sloBurnRates: {
    alert: pair.slo.alert
    expression: '(${replace(pair.slo.ratio, 'WINDOW', pair.burnRate.long)}) > (${pair.burnRate.factor} * (1 - ${pair.slo.objective})) and (${replace(pair.slo.ratio, 'WINDOW', pair.burnRate.short)}) > (${pair.burnRate.factor} * (1 - ${pair.slo.objective}))${pair.burnRate.minEvents > 0 ? ' and on() sum(increase(${pair.slo.events}[${pair.burnRate.long}])) > ${pair.burnRate.minEvents}' : ''}'
    'for': pair.burnRate.forDuration
    severity: azureSeverity[pair.burnRate.severity]
    labels: {
      severity: pair.burnRate.severity
      slo: pair.slo.slo
      burn: pair.burnRate.burn
    }
    annotations: {
      summary: '${pair.slo.summary} ${pair.burnRate.factor}x too fast'
      description: 'Over ${pair.burnRate.long} and ${pair.burnRate.short}, the share ${pair.slo.description} is above ${pair.burnRate.factor} times the error budget of a ${pair.slo.objective} objective${pair.burnRate.minEvents > 0 ? ', among more than ${pair.burnRate.minEvents} ${pair.slo.eventName} over ${pair.burnRate.long}' : ''}.'
      runbook_url: replace(runbookUrl, '{alert}', pair.slo.alert)
    }
  }
]

var deadLettered = 'notify_messages_total{outcome="dead_lettered"}'

// The causes the freshness SLI sees only once the late emails are sent.
var asyncPathRules = [
  {
    alert: 'OutboxStale'
    expression: 'max by (namespace) (intake_outbox_oldest_age_seconds) > ${outboxMaxAgeMinutes * 60}'
    'for': 'PT10M'
    severity: azureSeverity.page
    labels: {
      severity: 'page'
    }
    annotations: {
      summary: 'An outbox event has waited more than ${outboxMaxAgeMinutes * 60}s to be published'
      description: 'For 10m, the oldest unpublished outbox event has been older than ${outboxMaxAgeMinutes * 60}s: the relay is not publishing (bus down, relay stuck). Submissions are safe, but the sales team\'s emails are delayed.'
      runbook_url: replace(runbookUrl, '{alert}', 'OutboxStale')
    }
  }
  {
    alert: 'NotifyNotSending'
    expression: 'sum by (namespace) (increase(notify_messages_total{outcome="retried"}[10m])) > 0 unless sum by (namespace) (increase(notify_messages_total{outcome="sent"}[10m])) > 0'
    'for': 'PT5M'
    severity: azureSeverity.page
    labels: {
      severity: 'page'
    }
    annotations: {
      summary: 'The notifier retries messages and sends no email'
      description: 'Over 10m, the notifier retried messages and sent none (mail service or store failing, or the mailer\'s breaker open): emails wait in the queue.'
      runbook_url: replace(runbookUrl, '{alert}', 'NotifyNotSending')
    }
  }
  {
    alert: 'NotifyNotReceiving'
    expression: 'sum by (namespace) (increase(notify_bus_errors_total[3m])) > 0 unless sum by (namespace) (increase(notify_messages_total{outcome="sent"}[3m])) > 0'
    'for': 'PT5M'
    severity: azureSeverity.page
    labels: {
      severity: 'page'
    }
    annotations: {
      summary: 'The notifier\'s calls to the queue fail and it sends no email'
      description: 'For 5m, the notifier\'s calls to the bus (receive, settle) failed in every 3m window and it sent no email (its Service Bus role, its network path, the namespace): submissions wait in the queue.'
      runbook_url: replace(runbookUrl, '{alert}', 'NotifyNotReceiving')
    }
  }
  {
    alert: 'NotifyDeadLetters'
    expression: 'sum by (namespace) (increase(${deadLettered}[15m])) > 0 or sum by (namespace) (${deadLettered} unless ${deadLettered} offset 15m) > 0'
    severity: azureSeverity.ticket
    labels: {
      severity: 'ticket'
    }
    annotations: {
      summary: 'Notification messages went to the dead-letter queue'
      description: 'At least one SubmissionCreated event could not be turned into an email and was dead-lettered in the last 15m; inspect and replay it.'
      runbook_url: replace(runbookUrl, '{alert}', 'NotifyDeadLetters')
    }
  }
]

// A worker that crash-loops or never starts exposes no metric; Prometheus's own up series shows
// it. Not where KEDA may scale the worker to zero (dev): no target is then the normal state.
var notifyDown = {
  alert: 'NotifyDown'
  expression: 'sum by (namespace) (up{${notifyTargets}}) == 0 or absent(up{${notifyTargets}})'
  'for': 'PT5M'
  severity: azureSeverity.page
  labels: {
    severity: 'page'
  }
  annotations: {
    summary: 'No notify worker is up'
    description: 'For 5m, Prometheus has scraped no notify worker that answers (crash loop, image or scheduling failure, or no longer scraped): no email is sent and submissions wait in the queue.'
    runbook_url: replace(runbookUrl, '{alert}', 'NotifyDown')
  }
}
var notifyDownRules = notifyMinReplicas > 0 ? [notifyDown] : []

var prometheusAlerts = [
  for rule in concat(burnRateRules, asyncPathRules, notifyDownRules): union(rule, {
    enabled: true
    actions: [
      {
        actionGroupId: actionGroupIds[rule.labels.severity]
      }
    ]
    resolveConfiguration: {
      autoResolved: true
      timeToResolve: 'PT10M'
    }
  })
]

resource sloRules 'Microsoft.AlertsManagement/prometheusRuleGroups@2023-03-01' = {
  name: 'prg-${nameStem}-slo'
  location: location
  tags: tags
  properties: {
    description: 'The chart\'s SLO burn-rate alerts and asynchronous-path alerts (docs/slo.md).'
    scopes: [
      prometheusWorkspaceId
      clusterId
    ]
    clusterName: clusterName
    enabled: true
    interval: 'PT1M'
    rules: prometheusAlerts
  }
}

resource recordingRules 'Microsoft.AlertsManagement/prometheusRuleGroups@2023-03-01' = [
  for group in recordingRuleGroups: {
    name: 'prg-${nameStem}-${group.name}'
    location: location
    tags: tags
    properties: {
      description: 'The chart\'s ${group.name} recording rules: ${group.description}'
      scopes: [
        prometheusWorkspaceId
        clusterId
      ]
      clusterName: clusterName
      enabled: true
      interval: 'PT1M'
      rules: group.rules
    }
  }
]

resource deadLetters 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'alert-${nameStem}-dead-letters'
  location: 'global'
  tags: tags
  properties: {
    description: 'Messages in the dead-letter queue of ${queueName}: emails not sent, replay after fixing. Runbook: ${replace(runbookUrl, '{alert}', 'NotifyDeadLetters')}'
    severity: azureSeverity.ticket
    enabled: true
    scopes: [
      serviceBusNamespaceId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'dead-lettered'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: [
                queueName
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Maximum'
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroupIds.ticket
      }
    ]
  }
}

resource queueBacklog 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'alert-${nameStem}-queue-backlog'
  location: 'global'
  tags: tags
  properties: {
    description: 'More than ${queueBacklogThreshold} messages have waited in ${queueName} for 15 minutes: the notifier is down, cannot receive or cannot keep up, and emails are late. Runbook: ${replace(runbookUrl, '{alert}', 'NotifyQueueBacklog')}'
    severity: azureSeverity.page
    enabled: true
    scopes: [
      serviceBusNamespaceId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'backlog'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'ActiveMessages'
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: [
                queueName
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: queueBacklogThreshold
          // The fewest of the window's minutes: above the threshold all along, not at one peak.
          timeAggregation: 'Minimum'
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroupIds.page
      }
    ]
  }
}
