// One user-assigned identity per workload, each trusted by exactly one Kubernetes service
// account through a federated credential on the cluster's OIDC issuer (workload identity).
// Data-plane roles are granted next to the resources they open (cosmos, servicebus, keyvault...).
// One more identity reads the queue for the scaler: KEDA's operator (the AKS add-on runs it as
// kube-system/keda-operator) gets its own, federated with that account only, so what it needs
// to read queue counts (servicebus.bicep) is never granted to notify's pods or its Function.

@description('Azure region of the identities.')
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

@description('OIDC issuer URL of the AKS cluster.')
@minLength(10)
param oidcIssuerUrl string

@description('Kubernetes namespace the app is installed in.')
@minLength(1)
@maxLength(63)
param namespace string

@description('Workloads, each with its Kubernetes service account name.')
@minLength(1)
@maxLength(10)
param workloads array

@description('Namespace and name of the KEDA operator service account, e.g. kube-system/keda-operator.')
@minLength(3)
@maxLength(127)
param kedaOperatorServiceAccount string

resource identities 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = [
  for workload in workloads: {
    name: 'id-${nameStem}-${workload.name}'
    location: location
    tags: tags
  }
]

// One credential per identity; @batchSize(1) keeps ARM from writing credentials concurrently.
@batchSize(1)
resource credentials 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = [
  for (workload, i) in workloads: {
    parent: identities[i]
    name: 'aks-${namespace}-${workload.serviceAccount}'
    properties: {
      issuer: oidcIssuerUrl
      subject: 'system:serviceaccount:${namespace}:${workload.serviceAccount}'
      audiences: [
        'api://AzureADTokenExchange'
      ]
    }
  }
]

resource scaler 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${nameStem}-keda-scaler'
  location: location
  tags: tags
}

resource scalerCredential 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: scaler
  name: 'aks-${replace(kedaOperatorServiceAccount, '/', '-')}'
  properties: {
    issuer: oidcIssuerUrl
    subject: 'system:serviceaccount:${replace(kedaOperatorServiceAccount, '/', ':')}'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}

@description('Per workload: name, resource id, client id and principal id, in the order given.')
output identities array = [
  for (workload, i) in workloads: {
    name: workload.name
    serviceAccount: workload.serviceAccount
    id: identities[i].id
    clientId: identities[i].properties.clientId
    principalId: identities[i].properties.principalId
  }
]

@description('The identity KEDA reads the queue with: client id (the TriggerAuthentication identityId) and principal id.')
output scaler object = {
  clientId: scaler.properties.clientId
  principalId: scaler.properties.principalId
}
