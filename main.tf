# The course's hand-in entry point. The course's grader runs `terraform init/apply/destroy` in the repository
# root with only -var exoscale_key=... -var exoscale_secret=..., and a key restricted to the compute and sos
# services. The deployment itself is the module in ./terraform (`cd terraform && terraform apply` works the same);
# this root only chooses the hand-in defaults (variables.tf): no IAM resources, and the course's one-step policy.
# State lands in ./terraform.tfstate, where the grader looks for it after destroy.

terraform {
  required_version = ">= 1.5.0"
}

module "autoscaler" {
  source = "./terraform"

  exoscale_key    = var.exoscale_key
  exoscale_secret = var.exoscale_secret

  zone                     = var.zone
  create_control_plane_key = var.create_control_plane_key
  scaling_policy           = var.scaling_policy
  pools                    = var.pools

  control_plane_replicas    = var.control_plane_replicas
  control_plane_second_zone = var.control_plane_second_zone
  database_plan             = var.database_plan
}
