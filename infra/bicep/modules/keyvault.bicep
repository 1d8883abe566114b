// Key Vault for the few secrets the app has (the UI session secret, the IP hash salt, the admin
// page token secret, seeded by hand; the App Insights connection string, written here from the
// resource at every deployment). RBAC only, purge protection on, reachable only through its
// private endpoint (ARM still writes secrets: that is the control plane).

@description('Azure region of the vault.')
@allowed([
  'eastus'
  'eastus2'
])
param location string

@description('Tags applied to every resource.')
param tags object

@description('Globally unique vault name.')
@minLength(3)
@maxLength(24)
param vaultName string

@description('Days a deleted vault or secret can be recovered.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionDays int

@description('Principal ids given Key Vault Secrets User on the vault.')
@maxLength(10)
param secretsUserPrincipalIds array

@description('Name of the Application Insights resource in this resource group, whose connection string the chart mounts.')
@minLength(1)
@maxLength(260)
param appInsightsName string

@description('Resource id of the Log Analytics workspace for diagnostics.')
@minLength(10)
param logAnalyticsWorkspaceId string

var secretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: vaultName
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionDays
    enablePurgeProtection: true
    publicNetworkAccess: 'Disabled'
    networkAcls: {
      defaultAction: 'Deny'
      bypass: 'AzureServices'
      ipRules: []
      virtualNetworkRules: []
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// Every pod mounts it (APPLICATIONINSIGHTS_CONNECTION_STRING) and a missing object fails the
// CSI mount, so the deployment writes it rather than a person. It names the ingestion endpoint
// and is no credential: App Insights has local auth off, so ingestion needs an Entra token.
resource appInsightsConnectionString 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  // checkov:skip=CKV_AZURE_41: rewritten from the App Insights resource by every deployment and no credential (local auth is off); an expiry would only break the CSI mount of every pod
  parent: vault
  name: 'appinsights-connection-string'
  tags: tags
  properties: {
    value: appInsights.properties.ConnectionString
    contentType: 'text/plain'
  }
}

resource secretsUsers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in secretsUserPrincipalIds: {
    name: guid(vault.id, principalId, secretsUser)
    scope: vault
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUser)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

@description('Resource id of the vault.')
output vaultId string = vault.id

@description('Vault URI.')
output vaultUri string = vault.properties.vaultUri

@description('Vault name.')
output vaultName string = vault.name
