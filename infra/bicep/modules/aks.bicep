// AKS: system, user and (optional) spot pools across three zones with the cluster autoscaler;
// Azure CNI overlay with Cilium; OIDC issuer + workload identity; Key Vault CSI with rotation;
// Azure Policy; Defender; Entra ID RBAC with local accounts off; authorised API server ranges;
// planned maintenance + auto-upgrade; Container Insights and managed Prometheus via DCRs; the
// managed add-ons the chart relies on: application routing (its ingress class
// webapprouting.kubernetes.azure.com) and KEDA (notify's ScaledObject).

@description('Azure region of the cluster.')
@allowed([
  'eastus'
  'eastus2'
])
param location string

@description('Tags applied to every resource.')
param tags object

@description('Cluster name.')
@minLength(3)
@maxLength(63)
param clusterName string

@description('Resource id of the AKS nodes subnet.')
@minLength(10)
param nodeSubnetId string

@description('Resource id of an existing user-assigned control-plane identity (landing zone); empty to create one.')
@maxLength(300)
param existingControlPlaneIdentityId string

@description('Resource id of the egress route table, empty when egress uses the load balancer.')
@maxLength(300)
param routeTableId string

@description('Uptime SLA tier.')
@allowed([
  'Free'
  'Standard'
])
param skuTier string

@description('VM size of the system pool.')
@minLength(8)
@maxLength(40)
param systemNodeVmSize string

@description('Node count of the system pool (one per zone at least).')
@minValue(1)
@maxValue(10)
param systemNodeCount int

@description('VM size of the user (application) pool.')
@minLength(8)
@maxLength(40)
param userNodeVmSize string

@description('Minimum nodes of the user pool.')
@minValue(1)
@maxValue(50)
param userNodeMinCount int

@description('Maximum nodes of the user pool.')
@minValue(1)
@maxValue(100)
param userNodeMaxCount int

@description('True to add a spot pool for non-critical work (tainted; only tolerating pods land there).')
param enableSpotPool bool

@description('VM size of the spot pool.')
@minLength(8)
@maxLength(40)
param spotNodeVmSize string

@description('Maximum nodes of the spot pool (it scales from zero).')
@minValue(1)
@maxValue(50)
param spotNodeMaxCount int

@description('CIDRs allowed to reach the API server.')
@minLength(1)
@maxLength(200)
param apiServerAuthorizedIpRanges array

@description('Entra ID groups given cluster admin through Azure RBAC.')
@maxLength(10)
param adminGroupObjectIds array

@description('Resource id of the Log Analytics workspace (Container Insights, Defender, diagnostics).')
@minLength(10)
param logAnalyticsWorkspaceId string

@description('Resource id of the Azure Monitor workspace (managed Prometheus).')
@minLength(10)
param prometheusWorkspaceId string

var zones = [
  '1'
  '2'
  '3'
]
var createIdentity = empty(existingControlPlaneIdentityId)
var networkContributor = '4d97b98b-1d4f-4787-a291-c67834d212e7'
var vnetName = split(nodeSubnetId, '/')[8]

resource controlPlaneIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = if (createIdentity) {
  name: 'id-${clusterName}-control-plane'
  location: location
  tags: tags
}

var identityId = createIdentity ? controlPlaneIdentity.id : existingControlPlaneIdentityId

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' existing = {
  name: vnetName
}

// The landing-zone identity already holds Network Contributor on its VNet; ours needs it before
// the cluster exists (subnet join, internal load balancers in the ingress subnet).
resource controlPlaneOnVnet 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (createIdentity) {
  name: guid(vnet.id, clusterName, networkContributor)
  scope: vnet
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', networkContributor)
    principalId: controlPlaneIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource routeTable 'Microsoft.Network/routeTables@2024-05-01' existing = if (!empty(routeTableId)) {
  name: empty(routeTableId) ? 'none' : last(split(routeTableId, '/'))
}

resource controlPlaneOnRouteTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(routeTableId)) {
  name: guid(routeTableId, clusterName, networkContributor)
  scope: routeTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', networkContributor)
    principalId: createIdentity ? controlPlaneIdentity.properties.principalId : reference(existingControlPlaneIdentityId, '2023-01-31').principalId
    principalType: 'ServicePrincipal'
  }
}

resource cluster 'Microsoft.ContainerService/managedClusters@2024-05-01' = {
  // checkov:skip=CKV_AZURE_226: the landing zone allows only Dsv4/Dsv3/B sizes; Dsv4 has no temp disk, so OS disks stay managed (encrypted at host)
  // checkov:skip=CKV_AZURE_172: false positive, rotation is on: add-on config values are strings and enableSecretRotation is 'true'
  name: clusterName
  location: location
  tags: tags
  sku: {
    name: 'Base'
    tier: skuTier
  }
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    dnsPrefix: clusterName
    nodeResourceGroup: 'rg-${clusterName}-nodes'
    enableRBAC: true
    disableLocalAccounts: true
    aadProfile: {
      managed: true
      enableAzureRBAC: true
      tenantID: tenant().tenantId
      adminGroupObjectIDs: adminGroupObjectIds
    }
    apiServerAccessProfile: {
      authorizedIPRanges: apiServerAuthorizedIpRanges
    }
    agentPoolProfiles: [
      {
        name: 'system'
        mode: 'System'
        vmSize: systemNodeVmSize
        count: systemNodeCount
        minCount: systemNodeCount
        maxCount: systemNodeCount * 2
        enableAutoScaling: true
        availabilityZones: zones
        vnetSubnetID: nodeSubnetId
        osType: 'Linux'
        osSKU: 'AzureLinux'
        type: 'VirtualMachineScaleSets'
        maxPods: 110
        enableEncryptionAtHost: true
        nodeTaints: [
          'CriticalAddonsOnly=true:NoSchedule'
        ]
        upgradeSettings: {
          maxSurge: '33%'
      }
      }
      {
        name: 'apps'
        mode: 'User'
        vmSize: userNodeVmSize
        count: userNodeMinCount
        minCount: userNodeMinCount
        maxCount: userNodeMaxCount
        enableAutoScaling: true
        availabilityZones: zones
        vnetSubnetID: nodeSubnetId
        osType: 'Linux'
        osSKU: 'AzureLinux'
        type: 'VirtualMachineScaleSets'
        maxPods: 110
        enableEncryptionAtHost: true
        nodeLabels: {
          workload: 'apps'
      }
        upgradeSettings: {
          maxSurge: '33%'
      }
      }
    ]
    autoScalerProfile: {
      'balance-similar-node-groups': 'true'
      expander: 'least-waste'
      'scale-down-unneeded-time': '10m'
      'skip-nodes-with-system-pods': 'true'
    }
    networkProfile: {
      networkPlugin: 'azure'
      networkPluginMode: 'overlay'
      networkDataplane: 'cilium'
      networkPolicy: 'cilium'
      podCidr: '192.168.0.0/16'
      serviceCidr: '172.16.0.0/16'
      dnsServiceIP: '172.16.0.10'
      loadBalancerSku: 'standard'
      outboundType: empty(routeTableId) ? 'loadBalancer' : 'userDefinedRouting'
    }
    oidcIssuerProfile: {
      enabled: true
    }
    // Managed NGINX (ingress class webapprouting.kubernetes.azure.com): the chart's Ingresses.
    ingressProfile: {
      webAppRouting: {
        enabled: true
      }
    }
    // Managed KEDA (operator kube-system/keda-operator): notify's ScaledObject and its
    // TriggerAuthentication (workload identity, see identity.bicep's extra credentials).
    workloadAutoScalerProfile: {
      keda: {
        enabled: true
      }
    }
    securityProfile: {
      workloadIdentity: {
        enabled: true
      }
      defender: {
        logAnalyticsWorkspaceResourceId: logAnalyticsWorkspaceId
        securityMonitoring: {
          enabled: true
        }
      }
      imageCleaner: {
        enabled: true
        intervalHours: 168
      }
    }
    addonProfiles: {
      azureKeyvaultSecretsProvider: {
        enabled: true
        config: {
          enableSecretRotation: 'true'
          rotationPollInterval: '2m'
        }
      }
      azurepolicy: {
        enabled: true
      }
      omsagent: {
        enabled: true
        config: {
          logAnalyticsWorkspaceResourceID: logAnalyticsWorkspaceId
          useAADAuth: 'true'
        }
      }
    }
    autoUpgradeProfile: {
      upgradeChannel: 'stable'
      nodeOSUpgradeChannel: 'NodeImage'
    }
    azureMonitorProfile: {
      metrics: {
        enabled: true
        kubeStateMetrics: {
          metricLabelsAllowlist: ''
          metricAnnotationsAllowList: ''
        }
      }
    }
  }
  dependsOn: [
    controlPlaneOnVnet
    controlPlaneOnRouteTable
  ]
}

// Spot capacity for non-critical work; tainted, so only pods that tolerate eviction land here.
resource spotPool 'Microsoft.ContainerService/managedClusters/agentPools@2024-05-01' = if (enableSpotPool) {
  // checkov:skip=CKV_AZURE_168: false positive, maxPods is 110 below; checkov misreads the body of a conditional resource
  // checkov:skip=CKV_AZURE_227: false positive, enableEncryptionAtHost is true below; same conditional-resource parsing gap
  parent: cluster
  name: 'spot'
  properties: {
    mode: 'User'
    vmSize: spotNodeVmSize
    count: 0
    minCount: 0
    maxCount: spotNodeMaxCount
    enableAutoScaling: true
    availabilityZones: zones
    vnetSubnetID: nodeSubnetId
    osType: 'Linux'
    osSKU: 'AzureLinux'
    type: 'VirtualMachineScaleSets'
    maxPods: 110
    enableEncryptionAtHost: true
    scaleSetPriority: 'Spot'
    scaleSetEvictionPolicy: 'Delete'
    spotMaxPrice: -1
    nodeLabels: {
      workload: 'non-critical'
    }
    nodeTaints: [
      'kubernetes.azure.com/scalesetpriority=spot:NoSchedule'
    ]
  }
}

resource upgradeWindow 'Microsoft.ContainerService/managedClusters/maintenanceConfigurations@2024-05-01' = {
  parent: cluster
  name: 'aksManagedAutoUpgradeSchedule'
  properties: {
    maintenanceWindow: {
      schedule: {
        weekly: {
          dayOfWeek: 'Sunday'
          intervalWeeks: 1
        }
      }
      durationHours: 4
      startTime: '02:00'
      utcOffset: '+00:00'
    }
  }
}

resource nodeOsWindow 'Microsoft.ContainerService/managedClusters/maintenanceConfigurations@2024-05-01' = {
  parent: cluster
  name: 'aksManagedNodeOSUpgradeSchedule'
  properties: {
    maintenanceWindow: {
      schedule: {
        weekly: {
          dayOfWeek: 'Saturday'
          intervalWeeks: 1
        }
      }
      durationHours: 4
      startTime: '02:00'
      utcOffset: '+00:00'
    }
  }
  dependsOn: [
    upgradeWindow
  ]
}

// Container Insights with managed identity auth (ContainerLogV2).
resource containerInsightsRule 'Microsoft.Insights/dataCollectionRules@2022-06-01' = {
  name: 'MSCI-${location}-${clusterName}'
  location: location
  tags: tags
  kind: 'Linux'
  properties: {
    dataSources: {
      extensions: [
        {
          name: 'ContainerInsightsExtension'
          extensionName: 'ContainerInsights'
          streams: [
            'Microsoft-ContainerInsights-Group-Default'
          ]
          extensionSettings: {
            dataCollectionSettings: {
              interval: '1m'
              namespaceFilteringMode: 'Off'
              enableContainerLogV2: true
            }
          }
        }
      ]
    }
    destinations: {
      logAnalytics: [
        {
          name: 'ciworkspace'
          workspaceResourceId: logAnalyticsWorkspaceId
        }
      ]
    }
    dataFlows: [
      {
        streams: [
          'Microsoft-ContainerInsights-Group-Default'
        ]
        destinations: [
          'ciworkspace'
        ]
      }
    ]
  }
}

resource containerInsightsAssociation 'Microsoft.Insights/dataCollectionRuleAssociations@2022-06-01' = {
  name: 'ContainerInsightsExtension'
  scope: cluster
  properties: {
    dataCollectionRuleId: containerInsightsRule.id
  }
}

// Managed Prometheus: endpoint + rule + the two associations the metrics add-on looks for.
resource prometheusEndpoint 'Microsoft.Insights/dataCollectionEndpoints@2022-06-01' = {
  name: take('MSProm-${location}-${clusterName}', 44)
  location: location
  tags: tags
  kind: 'Linux'
  properties: {}
}

resource prometheusRule 'Microsoft.Insights/dataCollectionRules@2022-06-01' = {
  name: take('MSProm-${location}-${clusterName}', 64)
  location: location
  tags: tags
  kind: 'Linux'
  properties: {
    dataCollectionEndpointId: prometheusEndpoint.id
    dataSources: {
      prometheusForwarder: [
        {
          name: 'PrometheusDataSource'
          streams: [
            'Microsoft-PrometheusMetrics'
          ]
          labelIncludeFilter: {}
        }
      ]
    }
    destinations: {
      monitoringAccounts: [
        {
          name: 'MonitoringAccount1'
          accountResourceId: prometheusWorkspaceId
        }
      ]
    }
    dataFlows: [
      {
        streams: [
          'Microsoft-PrometheusMetrics'
        ]
        destinations: [
          'MonitoringAccount1'
        ]
      }
    ]
  }
}

resource prometheusRuleAssociation 'Microsoft.Insights/dataCollectionRuleAssociations@2022-06-01' = {
  name: take('MSProm-${location}-${clusterName}', 64)
  scope: cluster
  properties: {
    dataCollectionRuleId: prometheusRule.id
  }
}

resource prometheusEndpointAssociation 'Microsoft.Insights/dataCollectionRuleAssociations@2022-06-01' = {
  name: 'configurationAccessEndpoint'
  scope: cluster
  properties: {
    dataCollectionEndpointId: prometheusEndpoint.id
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: cluster
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        category: 'kube-audit-admin'
        enabled: true
      }
      {
        category: 'guard'
        enabled: true
      }
      {
        category: 'cluster-autoscaler'
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

@description('Resource id of the cluster.')
output clusterId string = cluster.id

@description('Cluster name.')
output clusterName string = cluster.name

@description('OIDC issuer URL, the issuer of every federated credential.')
output oidcIssuerUrl string = cluster.properties.oidcIssuerProfile.issuerURL

@description('Object id of the kubelet identity (AcrPull).')
output kubeletPrincipalId string = cluster.properties.identityProfile.kubeletidentity.objectId

@description('Client id of the Key Vault CSI add-on identity.')
output keyVaultCsiClientId string = cluster.properties.addonProfiles.azureKeyvaultSecretsProvider.identity.clientId
