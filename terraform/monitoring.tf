resource "exoscale_compute_instance" "monitor" {
  zone               = var.zone
  name               = "${var.name_prefix}-monitor"
  template_id        = data.exoscale_template.ubuntu.id
  type               = var.monitor_instance_type
  disk_size          = 20
  security_group_ids = [exoscale_security_group.monitor.id]
  ssh_keys           = var.ssh_public_key == "" ? null : [exoscale_ssh_key.admin[0].name]
  user_data          = templatefile("${path.module}/templates/monitor-cloud-init.yaml.tftpl", local.monitor_template_vars)

  labels = {
    project = var.name_prefix
    role    = "monitor"
  }

  lifecycle {
    ignore_changes = [template_id]
  }
}

# The version being applied: this checkout's origin and HEAD (or the variables), so `terraform apply` with only the
# two credentials deploys exactly this code. The script stops the plan when HEAD is not pushed.
data "external" "git_source" {
  program = ["bash", "${path.module}/scripts/git-source.sh"]
  query = {
    repository_url = var.repository_url
    repository_ref = var.repository_ref
  }
}

locals {
  monitor_template_vars = {
    repository_url   = data.external.git_source.result.url
    repository_ref   = data.external.git_source.result.ref
    exoscale_key     = var.create_control_plane_key ? exoscale_iam_api_key.control_plane[0].key : var.exoscale_key
    exoscale_secret  = var.create_control_plane_key ? exoscale_iam_api_key.control_plane[0].secret : var.exoscale_secret
    zone             = var.zone
    pools_file       = base64encode(local.pools_file)
    scaling_policy   = var.scaling_policy
    grafana_password = random_password.grafana_admin.result
    webhook_password = random_password.webhook.result
    webhook_hmac     = random_password.webhook_hmac.result
    api_token        = random_password.api_token.result
    # control_plane_replicas = 2 only (control-plane-replicas.tf); empty strings otherwise, which add nothing.
    replica_id        = local.database_template_vars.monitor.replica_id
    database_service  = local.database_template_vars.monitor.database_service
    database_zone     = local.database_template_vars.monitor.database_zone
    database_user     = local.database_template_vars.monitor.database_user
    database_password = local.database_template_vars.monitor.database_password
    database_script   = local.database_template_vars.monitor.database_script
  }
}

# The control plane's pools file (POOLS_FILE): one entry per pool, with the id Exoscale gave it. Written base64 in the
# user-data (encoding: b64), so no setting's value can break the cloud-config around it.
locals {
  pools_file = yamlencode({
    pools = [
      for name, pool in local.pools : merge(
        {
          name = name
          id   = exoscale_instance_pool.app[name].id
          zone = var.zone
          min  = pool.min
          max  = pool.max
        },
        length(pool.settings) > 0 ? { settings = pool.settings } : {},
      )
    ]
  })
}
