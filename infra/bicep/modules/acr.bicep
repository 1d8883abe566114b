// Container registry: the landing zone's shared acra10corpsales (in rg-root-iac) or one of our
// own. Either way the kubelet identity gets AcrPull, and nothing else.

@description('Azure region of a registry created here.')
@allowed([
  'eastus'
  'eastus2'
])
param location string

@description('Tags applied to a registry created here.')
param tags object

@description('True to create the registry, false to reference an existing one in this resource group.')
param createRegistry bool

@description('Registry name (alphanumeric, globally unique).')
@minLength(5)
@maxLength(50)
param registryName string

@description('Object id of the AKS kubelet identity.')
@minLength(36)
@maxLength(36)
param kubeletPrincipalId string

var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

resource created 'Microsoft.ContainerRegistry/registries@2023-07-01' = if (createRegistry) {
  // checkov:skip=CKV_AZURE_139: CI pushes from GitHub-hosted runners with Entra ID; pulls use the kubelet identity. The landing zone registry is the private one
  // checkov:skip=CKV_AZURE_166: quarantine blocks every pull until a scanner marks the image; images are scanned by Trivy in CI and Defender for Containers
  // checkov:skip=CKV_AZURE_163: image scanning is Defender for Containers (subscription plan), not a registry property
  name: registryName
  location: location
  tags: tags
  sku: {
    name: 'Premium'
  }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    zoneRedundancy: 'Enabled'
    policies: {
      retentionPolicy: {
        days: 30
        status: 'enabled'
      }
      trustPolicy: {
        type: 'Notary'
        status: 'enabled'
      }
    }
  }
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: registryName
}

resource kubeletPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceId('Microsoft.ContainerRegistry/registries', registryName), kubeletPrincipalId, acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull)
    principalId: kubeletPrincipalId
    principalType: 'ServicePrincipal'
  }
  dependsOn: [
    created
  ]
}

@description('Login server of the registry.')
output loginServer string = '${registryName}.azurecr.io'
