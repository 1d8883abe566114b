// staging: production shape at smaller scale (zone-redundant Cosmos, WAF in Prevention, the
// chaos experiment runs here); autoscale Cosmos at its smallest ceiling and Standard Service Bus
// keep the cost down. No Redis: see deployRedis.
using '../main.bicep'

param environmentName = 'staging'
param location = 'eastus'
param secondaryLocation = 'eastus2'
param namePrefix = 'intake'
param owner = 'platform-team'
param costCenter = 'sales-ops'

// A10 landing zone (amaramdotme/A10_Corp-terraform): rg-a10corp-sales-stage, vnet-a10corp-sales-stage.
param useLandingZone = true
param landingZoneOrg = 'a10corp'
param landingZoneEnvironment = 'stage'
param sharedSubscriptionId = readEnvironmentVariable('A10_SHARED_SUBSCRIPTION_ID', '')
param sharedResourceGroupName = 'rg-root-iac'
param existingRegistryName = 'acra10corpsales'
param existingLogAnalyticsWorkspaceName = 'log-a10corp-hq'
param hubFirewallPrivateIp = ''
param deployFirewall = false
param privateDnsZonesSubscriptionId = ''
param privateDnsZonesResourceGroupName = ''

// Matches workloads/environments/stage.tfvars; the last three subnets are this app's.
param vnetAddressPrefix = '10.1.0.0/16'
param aksSubnetPrefix = '10.1.0.0/22'
param ingressSubnetPrefix = '10.1.4.0/26'
param privateEndpointSubnetPrefix = '10.1.5.0/24'
param functionsSubnetPrefix = '10.1.6.0/24'
param firewallSubnetPrefix = '10.1.7.0/26'

param aksSkuTier = 'Standard'
param aksSystemNodeVmSize = 'Standard_D2s_v4'
param aksSystemNodeCount = 3
param aksUserNodeVmSize = 'Standard_D2s_v4'
param aksUserNodeMinCount = 2
param aksUserNodeMaxCount = 6
param aksEnableSpotPool = true
param aksSpotNodeVmSize = 'Standard_D2s_v3'
param aksSpotNodeMaxCount = 3
param aksApiServerAuthorizedIpRanges = split(readEnvironmentVariable('AKS_API_ALLOWED_CIDRS'), ',')
param adminGroupObjectIds = empty(readEnvironmentVariable('AKS_ADMIN_GROUP_IDS', ''))
  ? []
  : split(readEnvironmentVariable('AKS_ADMIN_GROUP_IDS', ''), ',')
param kubernetesNamespace = 'onboarding-staging'

param cosmosCapacityMode = 'Autoscale'
param cosmosAutoscaleMaxThroughput = 1000
param cosmosZoneRedundant = true
param cosmosGeoReplication = false
param cosmosBackupTier = 'Continuous7Days'
param serviceBusSku = 'Standard'
param serviceBusPremiumCapacity = 1
// Off until the read cache can sign in with Entra ID: the cache has access keys off
// (redis.bicep) and the adapter knows only a key in REDIS_URL, so admin-api runs CACHE=none.
param deployRedis = false
param redisSkuName = 'Basic'
param redisCapacity = 0

param functionMaximumInstanceCount = 20
param functionInstanceMemoryMB = 2048
param frontDoorSku = 'Premium_AzureFrontDoor'
param wafMode = 'Prevention'
param wafPostRateLimitPerMinute = 300
// Staff reach /admin from the office only (Front Door's WAF checks it; the ingress cannot).
param staffAllowedSourceRanges = ['203.0.113.0/24']
param emailDataLocation = 'United States'

param logRetentionDays = 30
param logDailyQuotaGb = 5
param alertEmailAddress = readEnvironmentVariable('ALERT_EMAIL')
param pagerDutyWebhookUrl = readEnvironmentVariable('PAGERDUTY_WEBHOOK_URL', '')
param availabilitySlo = '0.995'
param outboxMaxAgeMinutes = 15
param notifyMinReplicas = 1
param queueBacklogThreshold = 10
// Where alerts link their runbooks ({alert}: the alert's name): infra.yml passes this
// repository's docs/runbooks; elsewhere the chart's default, unless RUNBOOK_URL is set.
param runbookUrl = readEnvironmentVariable('RUNBOOK_URL', 'https://github.com/example/onboarding/blob/main/docs/runbooks/{alert}.md')
// The object id of id-onboarding-deploy-staging (infra.yml passes the DEPLOY_PRINCIPAL_ID
// variable of infra-staging): Grafana Editor and Reader on the Grafana instance, for the dashboard
// import of deploy-env.yml. Empty: no one is given them, and CD cannot import it.
param deployPrincipalId = readEnvironmentVariable('DEPLOY_PRINCIPAL_ID', '')
param monthlyBudget = 1500
param budgetStartDate = '2025-12-01'
param enableChaosExperiment = true
