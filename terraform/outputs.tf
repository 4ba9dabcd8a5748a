output "load_balancer_url" {
  description = "The slow web app through the NLB (with several pools: the pool \"default\", else the first by name on port 80; every pool: the output pools)"
  value       = local.pool_urls[local.primary_pool]
}

output "load_url" {
  description = "Each GET keeps one member's CPU busy for 10 s: point the load test here"
  value       = "${local.pool_urls[local.primary_pool]}load"
}

output "grafana_url" {
  description = "Grafana (user admin, password: terraform output -raw grafana_admin_password)"
  value       = "http://${exoscale_compute_instance.monitor.public_ip_address}:3000/"
}

output "prometheus_url" {
  description = "Prometheus on the monitoring VM (reachable from admin_cidrs)"
  value       = "http://${exoscale_compute_instance.monitor.public_ip_address}:9090/"
}

output "control_plane_url" {
  description = "The control plane's status page (pool, members, alerts, chart, decisions); Swagger UI at /docs (POST /pool/scale with the api_token)"
  value       = "http://${exoscale_compute_instance.monitor.public_ip_address}:8090/"
}

output "control_plane_health_url" {
  description = "Poll this until it answers 200: the monitoring VM has cloned the code, built and started the control plane, and each part is healthy (reachable from admin_cidrs)"
  value       = "http://${exoscale_compute_instance.monitor.public_ip_address}:8090/health"
}

output "deployed_source" {
  description = "The repository and commit the monitoring VM deploys (this checkout's origin and HEAD unless set)"
  value       = "${data.external.git_source.result.url}@${data.external.git_source.result.ref}"
}

output "instance_pool_id" {
  description = "The instance pool the control plane scales (with several pools: the pool \"default\", else the first by name on port 80; every pool: the output pools)"
  value       = exoscale_instance_pool.app[local.primary_pool].id
}

output "pools" {
  description = "Every pool by name: its instance pool id and name, its bounds and instance type, its port on the NLB, and the app's URLs through it"
  value = {
    for name, pool in local.pools : name => {
      id                 = exoscale_instance_pool.app[name].id
      instance_pool_name = exoscale_instance_pool.app[name].name
      min                = pool.min
      max                = pool.max
      instance_type      = pool.instance_type
      port               = pool.port
      load_balancer_url  = local.pool_urls[name]
      load_url           = "${local.pool_urls[name]}load"
    }
  }
}

output "monitor_ip" {
  description = "Public IP of the monitoring VM (Prometheus, Grafana, control plane)"
  value       = exoscale_compute_instance.monitor.public_ip_address
}

output "control_plane_api_key" {
  description = "The control plane's own least-privilege key (its secret stays in the state); null when create_control_plane_key is false and the VM uses exoscale_key"
  value       = one(exoscale_iam_api_key.control_plane[*].key)
}

output "grafana_admin_password" {
  description = "Password of Grafana's admin user"
  value       = random_password.grafana_admin.result
  sensitive   = true
}

output "webhook_password" {
  description = "Basic-auth password of the webhook user 'grafana'"
  value       = random_password.webhook.result
  sensitive   = true
}

output "api_token" {
  description = "Bearer token for POST /pool/scale"
  value       = random_password.api_token.result
  sensitive   = true
}

output "control_plane_urls" {
  description = "Every control-plane replica's status page (the monitoring VM's first); GET /leadership on each tells which one leads"
  value = concat(
    ["http://${exoscale_compute_instance.monitor.public_ip_address}:8090/"],
    [for vm in exoscale_compute_instance.control_plane_replica : "http://${vm.public_ip_address}:8090/"],
  )
}

output "database_host" {
  description = "Host of the DBaaS PostgreSQL the replicas share (control_plane_replicas = 2; null otherwise); its password stays in the state"
  value       = one(data.exoscale_database_uri.state[*].host)
}
