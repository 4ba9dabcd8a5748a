# control_plane_replicas = 2: a second control-plane VM (control_plane_second_zone, else zone) and an Exoscale DBaaS
# PostgreSQL that both replicas share (DATABASE_URL: state, lease and fence). With 1 (the default) nothing here exists
# and the monitoring VM's user-data renders exactly as before, so the plan is today's.
#
# Order: the database's IP filter admits only the two VMs' public addresses (a /32 each), so it is created after both
# VMs; its host, port and CA therefore cannot be in their user-data (that would be a cycle). Each VM resolves them at
# boot through the Exoscale API (scripts/database-url.sh) with the control plane's key; the password is Terraform's
# (admin_password), so no call reveals it.
locals {
  ha                        = var.control_plane_replicas == 2
  control_plane_second_zone = var.control_plane_second_zone == "" ? var.zone : var.control_plane_second_zone
  database_service          = "${var.name_prefix}-state"
  database_user             = "autoscaler"
  replica_name              = "${var.name_prefix}-control-plane-2"

  # The operations scripts/database-url.sh calls (dbaas service class), added to the control plane's role.
  database_operations = ["get-dbaas-service-pg", "get-dbaas-ca-certificate"]

  # What each control-plane VM needs to find the database: empty strings with one replica (the template then adds
  # nothing). REPLICA_ID is the VM's name.
  database_template_vars = {
    for vm, name in { monitor = "${var.name_prefix}-monitor", replica = local.replica_name } : vm => {
      replica_id              = local.ha ? name : ""
      database_service        = local.ha ? local.database_service : ""
      database_zone           = local.ha ? var.zone : ""
      database_user           = local.ha ? local.database_user : ""
      database_password       = local.ha ? random_password.database_admin[0].result : ""
      database_script         = local.ha ? filebase64("${path.module}/scripts/database-url.sh") : ""
    }
  }
}

resource "random_password" "database_admin" {
  count = local.ha ? 1 : 0

  length  = 32
  special = false
}

resource "exoscale_dbaas" "state" {
  count = local.ha ? 1 : 0

  zone                   = var.zone
  name                   = local.database_service
  type                   = "pg"
  plan                   = var.database_plan
  termination_protection = false

  pg = {
    version        = "16"
    admin_username = local.database_user
    admin_password = random_password.database_admin[0].result
    # Only the control-plane VMs, each by its own address.
    ip_filter = [
      for ip in [
        exoscale_compute_instance.monitor.public_ip_address,
        exoscale_compute_instance.control_plane_replica[0].public_ip_address,
      ] : "${ip}/32"
    ]
  }
}

# The host for the output database_host (read once the service exists; its URI and password stay in the state only).
data "exoscale_database_uri" "state" {
  count = local.ha ? 1 : 0

  zone = var.zone
  name = exoscale_dbaas.state[0].name
  type = "pg"
}

data "exoscale_template" "control_plane_replica" {
  count = local.ha ? 1 : 0

  zone = local.control_plane_second_zone
  name = var.template_name
}

# The second replica runs only the control plane (docker-compose.monitor.yml's control-plane service), reading
# Prometheus on the monitoring VM. It shares the monitoring VM's security group, so 8090 is open to the same
# admin_cidrs (Grafana and Prometheus do not run here).
resource "exoscale_compute_instance" "control_plane_replica" {
  count = local.ha ? 1 : 0

  zone               = local.control_plane_second_zone
  name               = local.replica_name
  template_id        = data.exoscale_template.control_plane_replica[0].id
  type               = var.monitor_instance_type
  disk_size          = 20
  security_group_ids = [exoscale_security_group.monitor.id]
  ssh_keys           = var.ssh_public_key == "" ? null : [exoscale_ssh_key.admin[0].name]
  user_data = templatefile("${path.module}/templates/control-plane-cloud-init.yaml.tftpl", merge(
    local.database_template_vars.replica,
    {
      repository_url   = data.external.git_source.result.url
      repository_ref   = data.external.git_source.result.ref
      exoscale_key     = local.monitor_template_vars.exoscale_key
      exoscale_secret  = local.monitor_template_vars.exoscale_secret
      zone             = var.zone
      pools_file       = local.monitor_template_vars.pools_file
      scaling_policy   = var.scaling_policy
      webhook_password = random_password.webhook.result
      webhook_hmac     = random_password.webhook_hmac.result
      api_token        = random_password.api_token.result
      prometheus_url   = "http://${exoscale_compute_instance.monitor.public_ip_address}:9090"
    },
  ))

  labels = {
    project = var.name_prefix
    role    = "control-plane"
  }

  lifecycle {
    ignore_changes = [template_id]
  }
}

# The replica reads the utilisation from Prometheus on the monitoring VM when it leads.
resource "exoscale_security_group_rule" "monitor_prometheus_replica" {
  count = local.ha ? 1 : 0

  security_group_id = exoscale_security_group.monitor.id
  description       = "prometheus for the second control-plane replica"
  type              = "INGRESS"
  protocol          = "TCP"
  cidr              = "${exoscale_compute_instance.control_plane_replica[0].public_ip_address}/32"
  start_port        = 9090
  end_port          = 9090
}
