// dev: cheapest shape that still exercises every piece: serverless Cosmos, Standard Service Bus,
// no Redis, no firewall, one system node, spot pool on, Front Door Standard (custom WAF rules
// only). Deploys into the A10 landing zone; add `useLandingZone=false` on the command line for a
// standalone subscription.
using '../main.bicep'

param environmentName = 'dev'
param location = 'eastus'
param secondaryLocation = 'eastus2'
param namePrefix = 'intake'
param owner = 'platform-team'
param costCenter = 'sales-ops'

// A10 landing zone (amaramdotme/A10_Corp-terraform): rg-a10corp-sales-dev, vnet-a10corp-sales-dev.
param useLandingZone = true
param landingZoneOrg = 'a10corp'
param landingZoneEnvironment = 'dev'
param sharedSubscriptionId = readEnvironmentVariable('A10_SHARED_SUBSCRIPTION_ID', '')
param sharedResourceGroupName = 'rg-root-iac'
param existingRegistryName = 'acra10corpsales'
param existingLogAnalyticsWorkspaceName = 'log-a10corp-hq'
param hubFirewallPrivateIp = ''
param deployFirewall = false
param privateDnsZonesSubscriptionId = ''
param privateDnsZonesResourceGroupName = ''

// Matches workloads/environments/dev.tfvars; the last three subnets are this app's.
param vnetAddressPrefix = '10.0.0.0/16'
param aksSubnetPrefix = '10.0.0.0/22'
param ingressSubnetPrefix = '10.0.4.0/26'
param privateEndpointSubnetPrefix = '10.0.5.0/24'
param functionsSubnetPrefix = '10.0.6.0/24'
param firewallSubnetPrefix = '10.0.7.0/26'

param aksSkuTier = 'Free'
param aksSystemNodeVmSize = 'Standard_D2s_v4'
param aksSystemNodeCount = 1
param aksUserNodeVmSize = 'Standard_D2s_v4'
param aksUserNodeMinCount = 1
param aksUserNodeMaxCount = 3
param aksEnableSpotPool = true
param aksSpotNodeVmSize = 'Standard_D2s_v3'
param aksSpotNodeMaxCount = 3
param aksApiServerAuthorizedIpRanges = split(readEnvironmentVariable('AKS_API_ALLOWED_CIDRS'), ',')
param adminGroupObjectIds = empty(readEnvironmentVariable('AKS_ADMIN_GROUP_IDS', ''))
  ? []
  : split(readEnvironmentVariable('AKS_ADMIN_GROUP_IDS', ''), ',')
param kubernetesNamespace = 'onboarding-dev'

param cosmosCapacityMode = 'Serverless'
param cosmosAutoscaleMaxThroughput = 1000
param cosmosZoneRedundant = false
param cosmosGeoReplication = false
param cosmosBackupTier = 'Continuous7Days'
param serviceBusSku = 'Standard'
param serviceBusPremiumCapacity = 1
param deployRedis = false
param redisSkuName = 'Basic'
param redisCapacity = 0

param functionMaximumInstanceCount = 10
param functionInstanceMemoryMB = 2048
param frontDoorSku = 'Standard_AzureFrontDoor'
param wafMode = 'Detection'
param wafPostRateLimitPerMinute = 300
// No staff allow-list in dev: /admin needs the Entra ID sign-in only.
param staffAllowedSourceRanges = []
param emailDataLocation = 'United States'

param logRetentionDays = 30
param logDailyQuotaGb = 2
param alertEmailAddress = readEnvironmentVariable('ALERT_EMAIL')
param pagerDutyWebhookUrl = readEnvironmentVariable('PAGERDUTY_WEBHOOK_URL', '')
param availabilitySlo = '0.99'
param outboxMaxAgeMinutes = 30
// KEDA scales an idle worker to zero (values-dev.yaml): no NotifyDown.
param notifyMinReplicas = 0
param queueBacklogThreshold = 10
// Where alerts link their runbooks ({alert}: the alert's name): infra.yml passes this
// repository's docs/runbooks; elsewhere the chart's default, unless RUNBOOK_URL is set.
param runbookUrl = readEnvironmentVariable('RUNBOOK_URL', 'https://github.com/example/onboarding/blob/main/docs/runbooks/{alert}.md')
// The object id of id-onboarding-deploy-dev (infra.yml passes the DEPLOY_PRINCIPAL_ID
// variable of infra-dev): Grafana Editor and Reader on the Grafana instance, for the dashboard
// import of deploy-env.yml. Empty: no one is given them, and CD cannot import it.
param deployPrincipalId = readEnvironmentVariable('DEPLOY_PRINCIPAL_ID', '')
param monthlyBudget = 400
param budgetStartDate = '2025-12-01'
param enableChaosExperiment = false
