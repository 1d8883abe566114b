// Key Vault for the few secrets the app has (the UI session secret, the Entra client secret of
// the admin sign-in). RBAC only, purge protection on, reachable only through its private endpoint.

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
