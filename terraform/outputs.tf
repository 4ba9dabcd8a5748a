output "load_balancer_url" {
  description = "The slow web app through the NLB"
  value       = "http://${exoscale_nlb.app.ip_address}/"
}

output "load_url" {
  description = "Each GET keeps one member's CPU busy for 10 s: point the load test here"
  value       = "http://${exoscale_nlb.app.ip_address}/load"
}

output "grafana_url" {
  description = "Grafana (user admin, password: terraform output -raw grafana_admin_password)"
  value       = "http://${exoscale_compute_instance.monitor.public_ip_address}:3000/"
}

output "prometheus_url" {
  value = "http://${exoscale_compute_instance.monitor.public_ip_address}:9090/"
}

output "control_plane_url" {
  description = "Swagger UI of the control plane (GET /pool, POST /pool/scale with the api_token)"
  value       = "http://${exoscale_compute_instance.monitor.public_ip_address}:8090/docs"
}

output "instance_pool_id" {
  value = exoscale_instance_pool.app.id
}

output "monitor_ip" {
  value = exoscale_compute_instance.monitor.public_ip_address
}

output "control_plane_api_key" {
  description = "The control plane's own least-privilege key (its secret stays in the state)"
  value       = exoscale_iam_api_key.control_plane.key
}

output "grafana_admin_password" {
  value     = random_password.grafana_admin.result
  sensitive = true
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
