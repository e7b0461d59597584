metadata description = 'Role assignments: data access to Cosmos DB and the models for the app identity and the deploying user; storage and telemetry roles for the app identity.'

@description('Cosmos DB account name.')
param cosmosAccountName string

@description('AI Services account name.')
param aiAccountName string

@description('Whether the Function app, its identity, storage and Application Insights are deployed.')
param appDeployed bool

@description('Principal id of the Function app identity (used when appDeployed).')
param identityPrincipalId string

@description('Storage account of the Function app (used when appDeployed).')
param storageAccountName string

@description('Application Insights component of the Function app (used when appDeployed).')
param appInsightsName string

@description('Object id of the deploying user or service principal; empty skips its assignments.')
param userPrincipalId string = ''

@description('Principal type of userPrincipalId.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param userPrincipalType string = 'User'

var roles = {
  cosmosDataContributor: '00000000-0000-0000-0000-000000000002'
  openAiUser: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}
var hasUser = !empty(userPrincipalId)
var storageRoles = [
  roles.storageBlobDataOwner
  roles.storageQueueDataContributor
  roles.storageTableDataContributor
]

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2025-10-15' existing = {
  name: cosmosAccountName
}

resource ai 'Microsoft.CognitiveServices/accounts@2025-06-01' existing = {
  name: aiAccountName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource cosmosIdentity 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2025-10-15' = if (appDeployed) {
  parent: cosmos
  name: guid(cosmos.id, identityPrincipalId, roles.cosmosDataContributor)
  properties: {
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${roles.cosmosDataContributor}'
    principalId: identityPrincipalId
    scope: cosmos.id
  }
}

resource cosmosUser 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2025-10-15' = if (hasUser) {
  parent: cosmos
  name: guid(cosmos.id, userPrincipalId, roles.cosmosDataContributor)
  dependsOn: [
    cosmosIdentity
  ]
  properties: {
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${roles.cosmosDataContributor}'
    principalId: userPrincipalId
    scope: cosmos.id
  }
}

resource openAiIdentity 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (appDeployed) {
  scope: ai
  name: guid(ai.id, identityPrincipalId, roles.openAiUser)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.openAiUser)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource openAiUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasUser) {
  scope: ai
  name: guid(ai.id, userPrincipalId, roles.openAiUser)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.openAiUser)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}

resource storageIdentity 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in storageRoles: if (appDeployed) {
  scope: storage
  name: guid(storage.id, identityPrincipalId, role)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}]

resource telemetryIdentity 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (appDeployed) {
  scope: appInsights
  name: guid(appInsights.id, identityPrincipalId, roles.monitoringMetricsPublisher)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}
