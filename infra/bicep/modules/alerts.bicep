// Alert rules, all routed to the action group: SLO burn rates (multi-window, on the intake-api
// Prometheus counters), an outbox that does not drain, and messages in the dead-letter queue.

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

@description('Resource id of the action group.')
@minLength(10)
param actionGroupId string

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

@description('Availability SLO of intake-api, e.g. 0.999.')
@minLength(4)
@maxLength(7)
param availabilitySlo string

@description('Minutes the outbox may hold events before it pages.')
@minValue(5)
@maxValue(120)
param outboxMaxAgeMinutes int

var clusterName = last(split(clusterId, '/'))
var errorBudget = '(1 - ${availabilitySlo})'
// Error ratio of intake-api over a window, from the counter the service exposes on /metrics.
var errorRatio = 'sum(rate(http_requests_total{route=~"/v1/.*",status=~"5.."}[WINDOW])) / sum(rate(http_requests_total{route=~"/v1/.*"}[WINDOW]))'
var burnRates = [
  {
    alert: 'IntakeApiErrorBudgetFastBurn'
    longWindow: '1h'
    shortWindow: '5m'
    factor: '14.4'
    severity: 1
  }
  {
    alert: 'IntakeApiErrorBudgetSlowBurn'
    longWindow: '6h'
    shortWindow: '30m'
    factor: '6'
    severity: 2
  }
]

var burnRateRules = [
  for burn in burnRates: {
    alert: burn.alert
    expression: '(${replace(errorRatio, 'WINDOW', burn.longWindow)}) > (${burn.factor} * ${errorBudget}) and (${replace(errorRatio, 'WINDOW', burn.shortWindow)}) > (${burn.factor} * ${errorBudget})'
    'for': 'PT2M'
    severity: burn.severity
    enabled: true
    labels: {
      slo: 'intake-api-availability'
    }
    annotations: {
      summary: 'intake-api is burning its error budget ${burn.factor}x faster than allowed'
    }
    actions: [
      {
        actionGroupId: actionGroupId
      }
    ]
    resolveConfiguration: {
      autoResolved: true
      timeToResolve: 'PT10M'
    }
  }
]

var outboxRule = {
  // The backlog never reached zero during the window: the oldest event is at least that old.
  alert: 'OutboxNotDraining'
  expression: 'min_over_time(intake_outbox_backlog[${outboxMaxAgeMinutes}m]) > 0'
  'for': 'PT1M'
  severity: 2
  enabled: true
  annotations: {
    summary: 'Outbox events older than ${outboxMaxAgeMinutes} minutes: is Service Bus reachable?'
  }
  actions: [
    {
      actionGroupId: actionGroupId
    }
  ]
  resolveConfiguration: {
    autoResolved: true
    timeToResolve: 'PT10M'
  }
}

resource sloRules 'Microsoft.AlertsManagement/prometheusRuleGroups@2023-03-01' = {
  name: 'prg-${nameStem}-slo'
  location: location
  tags: tags
  properties: {
    description: 'Multi-window burn-rate alerts on the intake-api availability SLO, and outbox age.'
    scopes: [
      prometheusWorkspaceId
      clusterId
    ]
    clusterName: clusterName
    enabled: true
    interval: 'PT1M'
    rules: concat(burnRateRules, [
      outboxRule
    ])
  }
}

resource deadLetters 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'alert-${nameStem}-dead-letters'
  location: 'global'
  tags: tags
  properties: {
    description: 'Messages in the dead-letter queue of ${queueName}: emails not sent, replay after fixing.'
    severity: 2
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
        actionGroupId: actionGroupId
      }
    ]
  }
}
