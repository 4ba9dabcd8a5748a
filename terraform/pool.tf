data "exoscale_template" "ubuntu" {
  zone = var.zone
  name = var.template_name
}

# One instance pool per entry of local.pools (pools.tf); every member runs the same app and node exporter.
resource "exoscale_instance_pool" "app" {
  for_each = local.pools

  zone               = var.zone
  name               = "${local.pool_resource_names[each.key]}-pool"
  description        = "Slow web app (http-load-generator) and node exporter of pool ${each.key}, scaled by the control plane"
  template_id        = data.exoscale_template.ubuntu.id
  instance_type      = each.value.instance_type
  disk_size          = 10
  size               = each.value.size
  instance_prefix    = "${local.pool_resource_names[each.key]}-app"
  security_group_ids = [exoscale_security_group.pool.id]
  key_pair           = var.ssh_public_key == "" ? null : exoscale_ssh_key.admin[0].name
  user_data          = templatefile("${path.module}/templates/pool-cloud-init.yaml.tftpl", local.pool_template_vars)

  labels = {
    project = var.name_prefix
    role    = "app"
    pool    = each.key
  }

  lifecycle {
    # The control plane owns the size; a new template id must not replace the running members either.
    ignore_changes = [size, template_id]
  }
}

# The single pool of before is the pool "default": an existing state moves, nothing is replaced.
moved {
  from = exoscale_instance_pool.app
  to   = exoscale_instance_pool.app["default"]
}

locals {
  pool_template_vars = {
    app_image           = "quay.io/janoszen/http-load-generator:1.0.1"
    node_exporter_image = "quay.io/prometheus/node-exporter:v1.9.1"
  }
}
