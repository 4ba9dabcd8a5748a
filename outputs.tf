# The deployment module's outputs, unchanged (terraform output works the same in both folders).
output "api_token" {
  description = "Bearer token for POST /pool/scale"
  value       = module.autoscaler.api_token
  sensitive   = true
}

output "control_plane_api_key" {
  description = "The control plane's own least-privilege key (its secret stays in the state); null when create_control_plane_key is false and the VM uses exoscale_key"
  value       = module.autoscaler.control_plane_api_key
}

output "control_plane_health_url" {
  description = "Poll this until it answers 200: the monitoring VM has cloned the code, built and started the control plane, and each part is healthy (reachable from admin_cidrs)"
  value       = module.autoscaler.control_plane_health_url
}

output "control_plane_urls" {
  description = "Every control-plane replica's status page (the monitoring VM's first); GET /leadership on each tells which one leads"
  value       = module.autoscaler.control_plane_urls
}

output "control_plane_url" {
  description = "The control plane's status page (pool, members, alerts, chart, decisions); Swagger UI at /docs (POST /pool/scale with the api_token)"
  value       = module.autoscaler.control_plane_url
}

output "database_host" {
  description = "Host of the DBaaS PostgreSQL the replicas share (control_plane_replicas = 2; null otherwise); its password stays in the state"
  value       = module.autoscaler.database_host
}

output "deployed_source" {
  description = "The repository and commit the monitoring VM deploys (this checkout's origin and HEAD unless set)"
  value       = module.autoscaler.deployed_source
}

output "grafana_admin_password" {
  description = "Password of Grafana's admin user"
  value       = module.autoscaler.grafana_admin_password
  sensitive   = true
}

output "grafana_url" {
  description = "Grafana (user admin, password: terraform output -raw grafana_admin_password)"
  value       = module.autoscaler.grafana_url
}

output "instance_pool_id" {
  description = "The instance pool the control plane scales (with several pools: the pool \"default\", else the first by name on port 80; every pool: the output pools)"
  value       = module.autoscaler.instance_pool_id
}

output "load_balancer_url" {
  description = "The slow web app through the NLB (with several pools: the pool \"default\", else the first by name on port 80; every pool: the output pools)"
  value       = module.autoscaler.load_balancer_url
}

output "load_url" {
  description = "Each GET keeps one member's CPU busy for 10 s: point the load test here"
  value       = module.autoscaler.load_url
}

output "monitor_ip" {
  description = "Public IP of the monitoring VM (Prometheus, Grafana, control plane)"
  value       = module.autoscaler.monitor_ip
}

output "pools" {
  description = "Every pool by name: its instance pool id and name, its bounds and instance type, its port on the NLB, and the app's URLs through it"
  value       = module.autoscaler.pools
}

output "prometheus_url" {
  description = "Prometheus on the monitoring VM (reachable from admin_cidrs)"
  value       = module.autoscaler.prometheus_url
}

output "webhook_password" {
  description = "Basic-auth password of the webhook user 'grafana'"
  value       = module.autoscaler.webhook_password
  sensitive   = true
}
