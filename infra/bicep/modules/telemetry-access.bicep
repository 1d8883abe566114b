// Application Insights has local auth off: every app identity that sends telemetry needs
// Monitoring Metrics Publisher on it (and nothing more).

@description('Name of the Application Insights resource in this resource group.')
@minLength(1)
@maxLength(260)
param appInsightsName string

@description('Principal ids that publish telemetry.')
@maxLength(10)
param publisherPrincipalIds array

var metricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource publishers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in publisherPrincipalIds: {
    name: guid(appInsights.id, principalId, metricsPublisher)
    scope: appInsights
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', metricsPublisher)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]
