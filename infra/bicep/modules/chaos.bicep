// Chaos Studio: the AKS cluster as a Chaos Mesh target and an experiment that kills one
// intake-api pod at a time for five minutes. Chaos Mesh itself is installed by the chart
// pipeline. The experiment identity gets the AKS RBAC role it needs on the cluster only.

@description('Azure region of the experiment.')
@allowed([
  'eastus'
  'eastus2'
])
param location string

@description('Tags applied to every resource.')
param tags object

@description('Name stem, e.g. intake-staging-eus.')
@minLength(3)
@maxLength(40)
param nameStem string

@description('Name of the AKS cluster in this resource group.')
@minLength(3)
@maxLength(63)
param clusterName string

@description('Kubernetes namespace of the app.')
@minLength(1)
@maxLength(63)
param namespace string

// Azure Kubernetes Service Cluster User Role: enough for Chaos Studio to reach Chaos Mesh.
var clusterUserRole = '4abbcc35-e782-43d8-92c5-2d3f1bd2253f'

resource cluster 'Microsoft.ContainerService/managedClusters@2024-05-01' existing = {
  name: clusterName
}

resource target 'Microsoft.Chaos/targets@2024-01-01' = {
  name: 'Microsoft-AzureKubernetesServiceChaosMesh'
  scope: cluster
  properties: {}
}

resource podChaos 'Microsoft.Chaos/targets/capabilities@2024-01-01' = {
  parent: target
  name: 'PodChaos-2.1'
  properties: {}
}

resource experiment 'Microsoft.Chaos/experiments@2024-01-01' = {
  name: 'chaos-${nameStem}-pod-kill'
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    selectors: [
      {
        type: 'List'
        id: 'aks'
        targets: [
          {
            type: 'ChaosTarget'
            id: target.id
          }
        ]
      }
    ]
    steps: [
      {
        name: 'kill-intake-api-pods'
        branches: [
          {
            name: 'pod-failure'
            actions: [
              {
                type: 'continuous'
                name: 'urn:csci:microsoft:azureKubernetesServiceChaosMesh:podChaos/2.1'
                duration: 'PT5M'
                selectorId: 'aks'
                parameters: [
                  {
                    key: 'jsonSpec'
                    value: string({
                      action: 'pod-kill'
                      mode: 'one'
                      selector: {
                        namespaces: [
                          namespace
                        ]
                        labelSelectors: {
                          'app.kubernetes.io/component': 'intake-api'
                        }
                      }
                    })
                  }
                ]
              }
            ]
          }
        ]
      }
    ]
  }
  dependsOn: [
    podChaos
  ]
}

resource experimentOnCluster 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(cluster.id, experiment.id, clusterUserRole)
  scope: cluster
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', clusterUserRole)
    principalId: experiment.identity.principalId
    principalType: 'ServicePrincipal'
  }
}
