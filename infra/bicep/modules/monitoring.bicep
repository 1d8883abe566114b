// Observability: Log Analytics (unless the landing zone's central workspace is reused),
// workspace-based Application Insights with local auth off, an Azure Monitor workspace for
// managed Prometheus, Managed Grafana wired to it (CD may import dashboards into it, nothing
// more), and the two action groups alerts go to by severity: page (email and PagerDuty) and
// ticket (email only). Azure Monitor has no Alertmanager routing, so each alert names its group.

@description('Azure region of the monitoring resources.')
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

@description('Globally unique name of the Managed Grafana instance (max 23 characters).')
@minLength(2)
@maxLength(23)
param grafanaName string

@description('Resource id of an existing Log Analytics workspace; empty to create one here.')
@maxLength(300)
param existingLogAnalyticsWorkspaceId string

@description('Retention of the workspace created here, in days.')
@minValue(30)
@maxValue(730)
param logRetentionDays int

@description('Daily ingestion cap of the workspace created here, in GB (-1 for none).')
@minValue(-1)
@maxValue(100)
param dailyQuotaGb int

@description('True for a zone-redundant Grafana instance.')
param zoneRedundant bool

@description('Entra ID group object ids given Grafana Admin.')
@maxLength(10)
param adminGroupObjectIds array

@description('Principal (object) id of the environment\'s CD identity (id-onboarding-deploy-<env>), given Grafana Editor and Reader on this Grafana instance so that deploy-env.yml imports the dashboard; empty for none.')
@maxLength(36)
param dashboardPublisherPrincipalId string

@description('Email address of the on-call / sales-ops distribution list.')
@minLength(6)
@maxLength(254)
param alertEmailAddress string

@secure()
@maxLength(500)
@description('PagerDuty Events API v2 webhook URL (contains the integration key); empty for email only.')
param pagerDutyWebhookUrl string

var createWorkspace = empty(existingLogAnalyticsWorkspaceId)
var monitoringDataReader = 'b0d8363b-8ddd-447d-831f-62ca05bff136'
var monitoringReader = '43d0d8ad-25c7-4714-9337-8ba259a9fe05'
var grafanaAdmin = '22926164-76b3-42b3-bc55-97df8dab3e41'
var grafanaEditor = 'a79a5197-3a5c-4973-a920-486035ffd60f'
var reader = 'acdd72a7-3385-48ef-bd42-f606fba81ae7'
var publishDashboards = !empty(dashboardPublisherPrincipalId)

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = if (createWorkspace) {
  name: 'log-${nameStem}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionDays
    workspaceCapping: {
      dailyQuotaGb: dailyQuotaGb
    }
    features: {
      disableLocalAuth: true
    }
  }
}

var workspaceId = createWorkspace ? workspace.id : existingLogAnalyticsWorkspaceId

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${nameStem}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspaceId
    DisableLocalAuth: true
    IngestionMode: 'LogAnalytics'
    publicNetworkAccessForIngestion: 'Enabled'
    publicNetworkAccessForQuery: 'Enabled'
  }
}

resource prometheusWorkspace 'Microsoft.Monitor/accounts@2023-04-03' = {
  name: 'amw-${nameStem}'
  location: location
  tags: tags
  properties: {}
}

resource grafana 'Microsoft.Dashboard/grafana@2023-09-01' = {
  name: grafanaName
  location: location
  tags: tags
  sku: {
    name: 'Standard'
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    apiKey: 'Disabled'
    deterministicOutboundIP: 'Disabled'
    publicNetworkAccess: 'Enabled'
    zoneRedundancy: zoneRedundant ? 'Enabled' : 'Disabled'
    grafanaIntegrations: {
      azureMonitorWorkspaceIntegrations: [
        {
          azureMonitorWorkspaceResourceId: prometheusWorkspace.id
        }
      ]
    }
  }
}

// Grafana reads Prometheus data from the workspace and logs/metrics from this resource group.
resource grafanaReadsPrometheus 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(prometheusWorkspace.id, grafana.id, monitoringDataReader)
  scope: prometheusWorkspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringDataReader)
    principalId: grafana.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource grafanaReadsMonitoring 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, grafana.id, monitoringReader)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringReader)
    principalId: grafana.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource grafanaAdmins 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for groupId in adminGroupObjectIds: {
    name: guid(grafana.id, groupId, grafanaAdmin)
    scope: grafana
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', grafanaAdmin)
      principalId: groupId
      principalType: 'Group'
    }
  }
]

// CD imports the chart's dashboard (deploy-env.yml, `az grafana dashboard import`). Grafana
// Editor lets it create and change dashboards (and alert rules) in this instance, not its data
// sources, users or settings. `az grafana` first reads the instance for its endpoint, which
// Grafana Editor does not allow (it carries data actions only), hence Reader on the instance
// too. Neither reaches any other resource.
resource dashboardPublisherEdits 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (publishDashboards) {
  name: guid(grafana.id, dashboardPublisherPrincipalId, grafanaEditor)
  scope: grafana
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', grafanaEditor)
    principalId: dashboardPublisherPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource dashboardPublisherReads 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (publishDashboards) {
  name: guid(grafana.id, dashboardPublisherPrincipalId, reader)
  scope: grafana
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', reader)
    principalId: dashboardPublisherPrincipalId
    principalType: 'ServicePrincipal'
  }
}

var onCallEmail = [
  {
    name: 'on-call-email'
    emailAddress: alertEmailAddress
    useCommonAlertSchema: true
  }
]

// severity=page: someone acts now, day or night.
resource pageActionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${nameStem}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take('intake-oncall', 12)
    enabled: true
    emailReceivers: onCallEmail
    webhookReceivers: empty(pagerDutyWebhookUrl) ? [] : [
      {
        name: 'pagerduty'
        serviceUri: pagerDutyWebhookUrl
        useCommonAlertSchema: true
      }
    ]
  }
}

// severity=ticket: looked at in working hours (a slow burn, a dead letter); it never pages.
resource ticketActionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${nameStem}-ticket'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take('intake-ticket', 12)
    enabled: true
    emailReceivers: onCallEmail
  }
}

@description('Resource id of the Log Analytics workspace every diagnostic setting writes to.')
output logAnalyticsWorkspaceId string = workspaceId

@description('Resource id of Application Insights (the connection string is read from it at deploy time, never output).')
output appInsightsId string = appInsights.id

@description('Name of Application Insights.')
output appInsightsName string = appInsights.name

@description('Resource id of the Azure Monitor workspace (managed Prometheus).')
output prometheusWorkspaceId string = prometheusWorkspace.id

@description('Endpoint of Managed Grafana.')
output grafanaEndpoint string = grafana.properties.endpoint

@description('Name of Managed Grafana (deploy-env.yml imports the dashboard into it).')
output grafanaName string = grafana.name

@description('Resource id of the action group of alerts that page (email and PagerDuty).')
output pageActionGroupId string = pageActionGroup.id

@description('Resource id of the action group of alerts that open a ticket (email only).')
output ticketActionGroupId string = ticketActionGroup.id
